"""Probe reports: what re-evaluating a checkpoint on the data found, from a worker or a client."""
