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

The parameters, the trainable ones, are stated by the config (`parameters`, which the Python
client records from the model) or counted by a re-evaluation (the probe counts those of the model
it loaded that require gradients: TorchScript keeps the flag); the training samples
are the config's `train_size`, or those the re-evaluation read (the data sent holds the training
set, api.md §5). Where the probe read a sample of it (its limits: the report says `subsampled`),
a model short of parameters for the sample is short for the whole set, but one with room for the
sample may have none for the whole. It is not measured where the config declares frozen layers
(counted, not trained) or a heavy weight decay (a penalty that holds a large model's weights as
a small model's would be): those underfit with any number of parameters.
"""

from dataclasses import dataclass

from app.analysis import probe as probes
from app.analysis.config_keys import declared_count, restrains_capacity
from app.analysis.curves import Curves
from app.analysis.symptoms.symptom import Symptom

# Parameters per training sample from which a model has room to fit its training set.
ROOM_PER_SAMPLE = 1.0


@dataclass(frozen=True)
class _Size:
    parameters: float
    samples: float
    whole: bool  # the samples are the whole training set, not a sample the probe read
    counted_by: str


def _size(c: Curves) -> _Size | None:
    p = probes.read(c.probe)
    declared = declared_count(c.config, "parameters")
    counted = float(p.parameters) if p is not None and p.parameters else None
    parameters = declared or counted
    if parameters is None:
        return None
    source = "the config" if declared else "the re-evaluation"
    train_size = declared_count(c.config, "train_size")
    if train_size is not None:
        return _Size(parameters, train_size, True, source)
    if p is not None:
        return _Size(parameters, float(p.n_train), not p.subsampled, source)
    return None


def capacity(c: Curves) -> list[Symptom]:
    """`capacity_restrained`: the config declares what holds a model of any size as a small one
    (frozen layers, a heavy weight decay). `capacity_short`: fewer parameters than training
    samples (measured where both counts are known, or a sample the probe read already
    outnumbers the parameters, and nothing declared restrains the model)."""
    restrained = restrains_capacity(c.config)
    declared = Symptom(
        "capacity_restrained",
        restrained,
        float(restrained),
        "",
        f"the config {'declares' if restrained else 'does not declare'} frozen layers or a "
        "weight decay that holds the weights as a small model's",
    )
    size = _size(c)
    if size is None or restrained:
        return [declared]
    per_sample = size.parameters / size.samples
    if not size.whole and per_sample >= ROOM_PER_SAMPLE:
        return [declared]
    return [
        declared,
        Symptom(
            "capacity_short",
            per_sample < ROOM_PER_SAMPLE,
            round(per_sample, 4),
            "parameters per training sample",
            f"the model has {size.parameters:,.0f} parameters for {size.samples:,.0f} training "
            f"samples{'' if size.whole else ', a sample of the set re-evaluated'} "
            f"({per_sample:.3g} per sample, parameters counted by {size.counted_by})",
        ),
    ]
