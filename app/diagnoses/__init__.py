"""Diagnoses: run the analysis engine on a stored run and keep the answer until the run changes."""
