"""Symptoms read off the checks' findings: non-finite and jumping losses, instability, a broken
training, accuracy that disagrees with the loss, early stopping after a bump.
"""

from collections.abc import Mapping

from app.analysis.finding import Finding
from app.analysis.symptoms.symptom import Symptom, check_feature, check_flagged

NOISY_LABEL_EXCESS = 0.05  # 5 points more rejected labels in training than in validation
# A finite loss that jumps tenfold between two points overshot (`loss_jump`); numerical trouble
# is NaN, infinity, or a jump of orders of magnitude (`nonfinite`, causes.md). In the suite, the
# runs whose losses jumped 10-80x without a NaN had a learning rate too high, none numerical
# trouble.
ORDERS = 2.0
# The mean loss of each epoch's last steps (logged step losses) against validation: when it
# closes four fifths of the early gap, the gap is the epoch mean's half-epoch lag, measured.
STEPS_CLOSE = 0.8


def from_checks(findings: Mapping[str, Finding]) -> list[Symptom]:
    def flagged(check: str) -> bool:
        return check_flagged(findings, check)

    def feature(check: str, name: str) -> float:
        return check_feature(findings, check, name)

    def detail(check: str) -> str:
        f = findings.get(check)
        return f.detail if f is not None else ""

    def statistic(check: str) -> float | None:
        f = findings.get(check)
        return f.statistic if f is not None else None

    ended = (
        feature("early_stop", "es_tail_short") > 0
        and feature("early_stop", "es_bump_small") > 0
        and feature("early_stop", "es_pre_slope") > 0
    )
    return [
        Symptom(
            "nonfinite",
            feature("nonfinite", "nf_any") > 0 or feature("nonfinite", "nf_jump") >= ORDERS,
            statistic("nonfinite"),
            "",
            detail("nonfinite"),
        ),
        Symptom(
            "loss_jump",
            flagged("nonfinite"),
            round(feature("nonfinite", "nf_jump"), 3),
            "orders of magnitude",
            detail("nonfinite"),
        ),
        Symptom(
            "nan_loss",
            feature("nonfinite", "nf_any") > 0,
            statistic("nonfinite"),
            "",
            detail("nonfinite"),
        ),
        Symptom(
            "unstable_training",
            flagged("stability"),
            statistic("stability"),
            "share of epochs changing direction",
            detail("stability"),
        ),
        Symptom(
            "noisy_labels",
            feature("reeval_loss", "pr_noise_excess") > NOISY_LABEL_EXCESS,
            round(feature("reeval_loss", "pr_noise_excess"), 4),
            "excess share of confidently rejected training labels",
            detail("reeval_loss"),
        ),
        Symptom(
            "last_steps_close_gap",
            feature("lag", "lag_steps_closed") >= STEPS_CLOSE,
            round(feature("lag", "lag_steps_closed"), 3),
            "of the early gap",
            detail("lag"),
        ),
        Symptom(
            "accuracy_disagrees",
            flagged("metrics"),
            round(feature("metrics", "ad_divergence"), 3),
            "product of the loss and accuracy trends",
            detail("metrics"),
        ),
        Symptom(
            "loss_exploded",
            feature("failure", "fl_exploded") > 0,
            statistic("failure"),
            "times the lowest loss before it",
            detail("failure"),
        ),
        *(
            Symptom(symptom, feature("failure", name) > 0, None, "", detail("failure"))
            for symptom, name in (
                ("at_chance", "fl_at_chance"),
                ("collapsed_to_chance", "fl_collapsed"),
                ("at_chance_from_above", "fl_from_above"),
                ("negative_loss", "fl_negative"),
                ("impossible_loss", "fl_impossible"),
            )
        ),
        Symptom(
            "stalled_at_chance",
            feature("progress", "pg_stall") > 0,
            round(feature("progress", "pg_stall"), 3),
            "of the epochs at chance before the loss fell",
            detail("progress"),
        ),
        Symptom(
            "val_trends_up_while_training_falls",
            flagged("overfit")
            and feature("overfit", "of_train_falls") > 0
            and feature("overfit", "of_tau_late") > 0,
            statistic("overfit"),
            "Kendall's tau of validation loss after its minimum",
            detail("overfit"),
        ),
        Symptom(
            "ended_after_bump",
            ended,
            statistic("early_stop"),
            "epochs after the best validation loss",
            detail("early_stop"),
        ),
        Symptom(
            "stopped_while_falling",
            flagged("early_stop"),
            statistic("early_stop"),
            "epochs after the best validation loss",
            detail("early_stop"),
        ),
    ]
