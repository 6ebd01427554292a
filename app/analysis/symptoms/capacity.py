"""How many parameters the model has for each training sample: the room it has to fit them.

Underfitting by capacity is a model too small for its data, and a curve cannot say how large the
model was. A loss held at chance at a usual rate is what a 20-parameter net on four classes
shows, and what a 10,000-parameter residual net shows on 500 images of a task it cannot learn,
which a model four times as wide did not learn either (a throwaway batch: 3 such runs read
"underfitting" at 0.62-0.90, none was helped by the wider model). Networks with as many
parameters as training samples can fit them, labels and all (Zhang et al., "Understanding deep
learning requires rethinking generalization", 2017): one that large that does not fit its
training set lacks steps, a rate, a learnable signal or a better start, not room. Every run of
both generators planted underfit had under half a parameter per training sample.

The count comes from a re-evaluation (the probe counts the model it loaded) or from the config
(`parameters`, which the Python client records from the model, with `train_size`). It is not
measured where the config declares frozen layers (counted, not trained) or a heavy weight decay
(a penalty that holds a large model's weights as a small model's would be): those underfit with
any number of parameters.
"""

from app.analysis import probe as probes
from app.analysis.config_keys import declared_size, restrains_capacity
from app.analysis.curves import Curves
from app.analysis.symptoms.symptom import Symptom

# Parameters per training sample from which a model has room to fit its training set.
ROOM_PER_SAMPLE = 1.0


def _size(c: Curves) -> tuple[float, float, str] | None:
    """Parameters, training samples, and who counted them."""
    p = probes.read(c.probe)
    if p is not None and p.parameters and p.n_train > 0:
        return float(p.parameters), float(p.n_train), "the re-evaluation"
    declared = declared_size(c.config)
    return None if declared is None else (*declared, "the config")


def capacity(c: Curves) -> list[Symptom]:
    """`capacity_short`: fewer parameters than training samples (measured where the size is
    known and nothing declared restrains it)."""
    size = _size(c)
    if size is None or restrains_capacity(c.config):
        return []
    parameters, samples, source = size
    per_sample = parameters / samples
    return [
        Symptom(
            "capacity_short",
            per_sample < ROOM_PER_SAMPLE,
            round(per_sample, 4),
            "parameters per training sample",
            f"the model has {parameters:,.0f} parameters for {samples:,.0f} training samples "
            f"({per_sample:.3g} per sample, counted by {source})",
        )
    ]
