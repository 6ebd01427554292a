"""Background workers: the Huey consumer and, with the `worker` extra, model re-evaluation."""
