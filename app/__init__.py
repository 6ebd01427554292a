"""lossgap: diagnoses the gap between training and validation loss."""

__version__ = "0.1.0"
