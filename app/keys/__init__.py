"""API keys and what a request may see: admin keys see every run, project keys their projects'."""
