"""Starting a re-evaluation: a job that scores the uploaded model on the uploaded data."""
