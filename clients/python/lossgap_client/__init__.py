"""The lossgap client: report a run's curves from a training script.

`Tracker` for a hand-written loop; `Client`/`Run` underneath; callbacks for Keras 3
(`lossgap_client.keras`), PyTorch Lightning (`lossgap_client.lightning`) and the Hugging Face
Trainer (`lossgap_client.transformers`), each imported only when its framework is.
"""

from lossgap_client.client import Client, Run
from lossgap_client.summary import format_diagnosis
from lossgap_client.tracker import Tracker

__all__ = ["Client", "Run", "Tracker", "format_diagnosis"]
