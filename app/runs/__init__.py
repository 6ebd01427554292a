"""Runs: create, append to, read, list and delete training runs and their loss histories."""
