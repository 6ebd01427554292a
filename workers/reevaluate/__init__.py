"""Re-evaluation of a checkpoint on its data: evidence the curves alone cannot give (torch)."""
