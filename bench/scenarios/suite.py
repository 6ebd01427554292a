"""The committed scenario suite, loaded without torch: one JSON per generated run.

Two independent generators wrote it: the first (`generate.py`: MLPs on tabular data, causes
labelled by oracle checks of the planted phenomenon, and those whose fix is a rerun by the rerun:
`counterfactual.py`) and the second (`second/`: recurrent nets, transformers and CNNs on signals,
sequences and images, causes labelled by counterfactual reruns). A run's family is the kind of data
it was trained on; families never span generators.
"""

import json
from dataclasses import dataclass, replace
from pathlib import Path

from app.analysis.config_keys import BEHAVIOUR_KEYS
from app.analysis.document import history_from_document
from app.analysis.history import History

RUNS = Path(__file__).parent / "runs"
VALIDATION_KEYS = frozenset({"val_loss", "val_accuracy"})
FIRST_FAMILIES = {10: "digits", 2: "cancer", 4: "blobs"}  # by the number of classes of the data set
GENERATORS = ("first", "second")
FITTED_GENERATOR = "first"  # the shipped model is fitted on it; the other one only scores

# Causes a loss history (with config) can reveal; the others need re-evaluation of the model.
HISTORY_IDENTIFIABLE = frozenset(
    {
        "regularization_train_only",
        "augmentation_train_only",
        "measurement_lag",
        "small_validation_noise",
        "accuracy_loss_divergence",
        "loss_computation_mismatch",
        "overfitting",
        "underfitting",
        "lr_too_high",
        "lr_too_low",
        "not_converged",
        "premature_early_stopping",
        "numerical_instability",
    }
)

# Causes whose planted signal a re-evaluation of the checkpoint on the data reveals.
REEVAL_IDENTIFIABLE = frozenset(
    {
        "data_leakage",
        "easier_validation",
        "preprocessing_mismatch",
        "regularization_train_only",
        "augmentation_train_only",
        "batchnorm_mode",
        "label_noise_train",
        "loss_computation_mismatch",
    }
)


@dataclass(frozen=True)
class ScenarioRun:
    name: str
    split: str
    planted: frozenset[str]
    truth: frozenset[str]
    history: History  # with the probe report, when the generator could compute one
    generator: str = "first"
    data_family: str | None = None  # as the generator recorded it (the second one does)

    @property
    def family(self) -> str:
        """The data the run was trained on: the family left out together when scoring out of
        family (bench/accuracy.py). The first generator's files predate the field: its data
        set is told by the task and the number of classes."""
        if self.data_family is not None:
            return self.data_family
        if self.history.task == "regression":
            return "friedman"
        classes = self.history.config.get("num_classes")
        return FIRST_FAMILIES.get(classes, "other") if isinstance(classes, int) else "other"

    @property
    def variant(self) -> int:
        return int(self.name.rsplit("-", 1)[1])

    def without_probe(self) -> History:
        return replace(self.history, probe=None)

    def undeclared(self) -> "ScenarioRun":
        """The run as a user who declares none of its training-time behaviour reports it. The
        first generator declares those keys (`BEHAVIOUR_KEYS`) on every run that has it, so a
        model fitted on its runs alone learns that a run declaring none has none."""
        config = {k: v for k, v in self.history.config.items() if k not in BEHAVIOUR_KEYS}
        return replace(self, history=replace(self.history, config=config))

    def training_only(self) -> History:
        """The run as a script that logs no validation would report it."""
        kept = {k: v for k, v in self.history.epoch_series.items() if k not in VALIDATION_KEYS}
        return replace(self.history, epoch_series=kept, probe=None)


def plant_of(name: str) -> tuple[str, int]:
    """The cause whose plant made a stored run (natural runs are healthy controls that came out
    with a problem by themselves) and its variant, from the run's name."""
    stem, variant = name.rsplit("-", 1)
    cause = stem.removeprefix("second-")
    return ("healthy" if cause.startswith("natural-") else cause), int(variant)


def load_runs(split: str = "all", folder: Path = RUNS) -> list[ScenarioRun]:
    runs = []
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text())
        if split != "all" and document["split"] != split:
            continue
        runs.append(
            ScenarioRun(
                name=document["name"],
                split=document["split"],
                planted=frozenset(document["planted"]),
                truth=frozenset(document["truth"]),
                history=history_from_document(
                    {**document["history"], "probe": document.get("probe")}
                ),
                generator=document.get("generator", "first"),
                data_family=document.get("family"),
            )
        )
    return runs
