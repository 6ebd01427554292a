"""A failure the user must fix (a model that does not load, labels the model cannot score)."""

from workers.runner import JobFailed


class ReevaluationError(JobFailed):
    """Its message is shown as the job's error, as is: say what was wrong and how to fix it."""
