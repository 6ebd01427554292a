"""The job kinds this worker can run, by name.

Re-evaluation handlers (which need torch) register here; the API never imports this module.
"""

from workers.runner import JobHandler

HANDLERS: dict[str, JobHandler] = {}
