"""The one error a probe raises for what the caller must fix (shapes, labels, loss)."""


class ProbeError(ValueError):
    """The model, data or loss named cannot be probed; the message says what to change."""
