"""The probe report: one typed schema for every process that writes or reads it.

`probe()` in a user's process and the workers build it (`lossgap_client.probe.report`), the API
validates posted reports with it, and the server's analysis reads its fields by name, so that a
renamed field fails type checking instead of silently reading as missing. It needs pydantic
only (no torch), so the API can import it.

Only summaries travel (means, standard errors, test statistics, a few example indices), never
per-sample arrays, so a report stays small whatever the data size. Every field the analysis reads
is here; `extra` keeps anything else a producer wants to show.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
STORED = {"stored": True}  # validation context of a report read back from storage


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LossSummary(Strict):
    mean: float = Field(description="Mean per-sample loss.")
    se: NonNegative = Field(description="Standard error of the mean.")
    n: int = Field(ge=1, description="Samples scored.")


class Interval(Strict):
    value: float
    ci_low: float
    ci_high: float


class ModelFacts(Strict):
    has_dropout: bool = False
    has_batchnorm: bool = False
    parameters: int | None = Field(
        None, ge=0, description="Trainable parameters (those that require gradients)."
    )
    outputs: int | None = Field(None, ge=1, description="Width of the model's output.")


class Passes(Strict):
    """Per-sample losses of each split in each mode (items 1-3 of the report)."""

    train_eval: LossSummary
    val_eval: LossSummary
    train_train_mode: LossSummary | None = None
    val_train_mode: LossSummary | None = None
    train_dropout_only: LossSummary | None = Field(
        None, description="Train set, dropout on and batch norm in eval mode."
    )
    train_batchnorm_only: LossSummary | None = Field(
        None, description="Train set, batch norm on batch statistics and dropout off."
    )
    train_raw_eval: LossSummary | None = Field(
        None, description="`x_train_raw` (before augmentation) in eval mode."
    )


class Decomposition(Strict):
    """reported train - val = (reported train - train in eval mode) + (train in eval - val)."""

    reported_train: float | None = None
    reported_val: float | None = None
    train_time_effect: Interval | None = None
    eval_gap: Interval
    augmentation_effect: Interval | None = Field(
        None, description="Augmented minus raw training inputs, both in eval mode."
    )


class ShuffledSplit(Strict):
    val_mean: float
    null_mean: float
    null_sd: NonNegative
    z: float
    p_value: Probability
    permutations: int = Field(ge=1)
    raw_inputs: bool | None = Field(
        None,
        description="Whether the training losses pooled were those of the inputs before "
        "augmentation (x_train_raw); absent in reports that did not say.",
    )


class Leakage(Strict):
    exact_duplicates: int = Field(ge=0, description="Validation samples with an exact copy.")
    near_duplicates: int = Field(ge=0, description="Validation samples with a near copy.")
    leaked_fraction: Probability
    threshold: float = Field(description="Cosine similarity counted as a near-duplicate.")
    leaked_val_loss: float | None = None
    clean_val_loss: float | None = None
    p_value: Probability | None = Field(None, description="Leaked vs clean losses (Mann-Whitney).")
    chance_fraction: Probability | None = Field(
        None,
        description="Share of sampled training samples with a copy among the other training "
        "samples: how often copies occur by chance in this data.",
    )
    chance_sample: int | None = Field(
        None, ge=2, description="Training samples drawn to measure chance_fraction."
    )
    examples: list[tuple[int, int, float]] = Field(
        default_factory=list, description="(validation index, training index, similarity)."
    )


class SplitShift(Strict):
    adversarial_auc: Probability | None = Field(
        None, description="Cross-validated AUC of a classifier telling train from validation."
    )
    label_p_value: Probability | None = None
    features_tested: int = Field(0, ge=0)
    features_shifted: int = Field(0, ge=0, description="Significant after FDR control.")
    max_abs_mean_shift: NonNegative = Field(0.0, description="In training standard deviations.")
    median_abs_log_scale_ratio: NonNegative = 0.0
    max_abs_log_scale_ratio: NonNegative = 0.0
    raw_inputs: bool | None = Field(
        None,
        description="Whether the training inputs compared were those before augmentation "
        "(x_train_raw); absent in reports that did not say.",
    )


class LossRecompute(Strict):
    train_reported: float | None = None
    train_recomputed: float | None = None
    train_log_ratio: float | None = Field(None, description="log(reported / recomputed).")
    val_reported: float | None = None
    val_recomputed: float | None = None
    val_log_ratio: float | None = None


GROSS_RESIDUAL_SCALES = 3.0  # a regression residual beyond this many robust scales is gross
REJECTED_SHARE = 1 / 3  # a label at most this share of the predicted class's probability


class LabelNoise(Strict):
    measure: Literal["confident_wrong", "rejected_label", "gross_residual"] = Field(
        "confident_wrong",
        description="What counts as a rejected label. Classification: `rejected_label`, the "
        f"label at most {REJECTED_SHARE:.3g} of the predicted class's probability "
        "(`confident_wrong`, in older reports and those that did not say: another class at "
        "least 0.5 and the label at most 0.1). Regression: `gross_residual`, a residual beyond "
        f"{GROSS_RESIDUAL_SCALES:g} robust scales of the two splits' residuals.",
    )
    train_confident_wrong: Probability = Field(
        description="Share of training samples whose label the model rejects (see measure)."
    )
    val_confident_wrong: Probability = Field(
        description="Share of validation samples whose label the model rejects."
    )
    examples: list[int] = Field(
        default_factory=list, description="Training indices, the most rejected first."
    )
    raw_inputs: bool | None = Field(
        None,
        description="Whether the training labels were judged on the inputs before augmentation "
        "(x_train_raw); absent in reports that did not say.",
    )
    residual_share: NonNegative | None = Field(
        None,
        description="Regression: the robust scale of the model's validation residuals over that "
        "of validation's targets around the training targets' mean (a model that learned "
        "nothing scores about 1). Near 1, wrong training targets miss by no more than right "
        "ones, so the count above measures nothing. Absent for classification and in reports "
        "that did not say.",
    )


EXAMPLE: dict[str, Any] = {
    "version": 1,
    "source": "client",
    "task": "classification",
    "loss": "cross_entropy",
    "label_smoothing": 0.0,
    "batch_size": 32,
    "device": "cpu",
    "n_train": 500,
    "n_val": 200,
    "model": {"has_dropout": False, "has_batchnorm": False, "parameters": 19204, "outputs": 4},
    "passes": {
        "train_eval": {"mean": 0.5697, "se": 0.0358, "n": 500},
        "val_eval": {"mean": 0.6086, "se": 0.0569, "n": 200},
        "train_train_mode": {"mean": 0.5697, "se": 0.0358, "n": 500},
        "val_train_mode": {"mean": 0.6086, "se": 0.0569, "n": 200},
    },
    "decomposition": {
        "reported_train": 0.41,
        "reported_val": 0.38,
        "train_time_effect": {"value": -0.1597, "ci_low": -0.2298, "ci_high": -0.0896},
        "eval_gap": {"value": -0.0389, "ci_low": -0.1707, "ci_high": 0.0929},
    },
    "shuffled_split": {
        "val_mean": 0.6086,
        "null_mean": 0.5794,
        "null_sd": 0.0476,
        "z": 0.614,
        "p_value": 0.512,
        "permutations": 200,
    },
    "leakage": {
        "exact_duplicates": 200,
        "near_duplicates": 200,
        "leaked_fraction": 1.0,
        "threshold": 0.995,
        "leaked_val_loss": 0.6086,
        "examples": [[0, 300, 1.0], [1, 301, 1.0]],
    },
    "seconds": {"train_eval": 0.0192, "val_eval": 0.0004, "leakage": 0.0015},
}


class LossHistograms(Strict):
    """Per-sample eval-mode losses of both splits counted over the same bins: how the splits'
    losses are distributed, not just their means (a leaked or easier validation set piles up
    near zero; a preprocessing mismatch shifts the whole validation histogram)."""

    edges: list[float] = Field(
        description="Bin edges, shared by both splits (one more than counts)."
    )
    train: list[int] = Field(description="Training samples per bin.")
    val: list[int] = Field(description="Validation samples per bin.")


class ProbeReport(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    version: Literal[1] = 1
    source: Literal["worker", "client"] = "client"
    task: Literal["classification", "regression", "other"] = "other"
    loss: str
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    batch_size: int | None = Field(None, ge=1)
    device: str | None = None
    n_train: int = Field(ge=1)
    n_val: int = Field(ge=1)
    subsampled: bool = Field(
        False,
        description="The probe read fewer samples of a split than the data held (its limits): "
        "n_train and n_val count those read, not the whole splits.",
    )
    model: ModelFacts = Field(default_factory=ModelFacts)
    passes: Passes
    decomposition: Decomposition
    shuffled_split: ShuffledSplit | None = None
    leakage: Leakage | None = None
    split_shift: SplitShift | None = None
    loss_recompute: LossRecompute | None = None
    label_noise: LabelNoise | None = None
    histograms: LossHistograms | None = None
    seconds: dict[str, float] = Field(default_factory=dict, description="Time per part.")
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _counts_fit_the_splits(self, info: ValidationInfo) -> "ProbeReport":
        """Counts of samples cannot exceed the splits they were counted in: the analysis tests
        them against the split sizes. Checked on arrival only: a report stored before this
        check still reads (`STORED`), and the analysis bounds its counts."""
        leak = self.leakage
        if leak is not None and not (info.context or {}).get("stored"):
            if max(leak.exact_duplicates, leak.near_duplicates) > self.n_val:
                raise ValueError(
                    "leakage.exact_duplicates and leakage.near_duplicates count validation "
                    f"samples, so they cannot exceed n_val ({self.n_val})"
                )
            if leak.chance_sample is not None and leak.chance_sample > self.n_train:
                raise ValueError(
                    "leakage.chance_sample counts training samples drawn, so it cannot exceed "
                    f"n_train ({self.n_train})"
                )
        return self
