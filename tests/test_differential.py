"""The differential diagnosis: symptoms first, causes only where their mechanism fits.

Each test builds a run whose right answer is known from how it was made, and checks the failure
modes a diagnosis fitted to one generator falls into: causes that cannot produce the symptom,
confidence without evidence, significance without effect size, silence on a loud gap, and a
re-evaluation that measured the mechanism but did not decide.
"""

import copy
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from lossgap_client.probe_report import ProbeReport

from app.analysis import History, Series, diagnose, engine_version
from app.analysis import model as cause_model
from app.analysis.catalog import BY_ID, CAUSES
from app.analysis.diagnose import UNEXPLAINED, Assessment, assess, report
from app.analysis.differential import (
    CLAIM,
    CONFIRMED,
    LEAK_CONFIRMED,
    UNCLAIMED,
    confidences,
    history_weight,
)
from app.analysis.document import history_from_document
from app.analysis.fingerprint import FEATURES_FINGERPRINT
from app.analysis.symptoms import present
from app.analysis.symptoms.symptom import Symptom
from bench.scenarios.suite import RUNS, load_runs

FIXTURES = Path(__file__).resolve().parent / "fixtures"

SUITE = load_runs("all")
SUITE_BY_NAME = {run.name: run for run in SUITE}


def history(train, val, config=None, task="classification", probe=None) -> History:
    epochs = np.arange(1, len(train) + 1, dtype=float)
    series = {"train_loss": Series.full(np.asarray(train, float))}
    if val is not None:
        series["val_loss"] = Series.full(np.asarray(val, float))
    return History(epochs, series, config=config or {}, task=task, probe=probe)


def ids(result) -> list[str]:
    return [c.id for c in result.causes]


def listed_confidence(result, cause_id: str) -> float:
    """A cause's reported confidence, 0 where it is not listed."""
    return next((c.confidence for c in result.causes if c.id == cause_id), 0.0)


def test_every_cause_declares_its_mechanism_in_terms_the_engine_measures():
    measured: set[str] = set()
    for run in SUITE:
        measured |= set(assess(run.history).symptoms)
        measured |= set(assess(run.training_only()).symptoms)
    for cause in CAUSES:
        assert cause.requires, cause.id
        assert cause.settle, cause.id
        named = set().union(*cause.requires) | cause.excludes | cause.refuted_without
        named |= cause.confirmed_by | cause.also_produces | cause.partial_when | cause.claimed_with
        named |= cause.declared_by | cause.accounts_for
        assert named <= measured, (cause.id, named - measured)


def test_the_fitted_parameters_belong_to_the_feature_code_that_runs():
    model = cause_model.load()
    assert model.features == FEATURES_FINGERPRINT, "a check changed: run bench/fit_model.py"
    assert FEATURES_FINGERPRINT[:8] in engine_version()
    assert len(engine_version()) <= 32  # the stored diagnoses' column
    assert all(m.base_rate is not None for m in model.causes.values())


def test_validation_above_training_is_never_explained_by_what_only_lowers_it():
    # An MLP with dropout 0.5: validation starts below training (dropout, the lag), then the
    # model memorizes and validation ends well above training.
    epochs = np.arange(1, 31)
    train = 0.02 + 2.0 * np.exp(-epochs / 4)
    val = 0.35 + 1.3 * np.exp(-epochs / 3)
    result = diagnose(history(train, val, {"dropout": 0.5, "val_size": 360}))
    present = {s.id for s in result.symptoms if s.present}
    assert "val_above_train" in present
    assert not {"regularization_train_only", "augmentation_train_only", "easier_validation"} & set(
        ids(result)
    )
    top = result.causes[0]
    assert top.kind == "problem" or "it cannot explain the end" in result.summary


def test_validation_below_training_only_at_the_first_epoch_is_no_sign_of_a_leak():
    # The first epoch's mean training loss includes the untrained start, so validation sits
    # below it there in nearly every run; afterwards validation stays well above training.
    # Leaked samples, an easier split or noisy training labels would keep it below for longer.
    epochs = np.arange(1, 31)
    train = 0.002 + 1.1 * np.exp(-epochs / 2)
    val = 0.012 + 0.9 * np.exp(-epochs / 2.5)
    result = diagnose(history(train, val, {"val_size": 400}))
    present = {s.id for s in result.symptoms if s.present}
    assert {"val_below_train_first", "val_above_train"} <= present
    assert not present & {"val_below_train", "val_below_train_early"}
    assert not {"data_leakage", "easier_validation", "label_noise_train"} & set(ids(result))


def probe_like(template_run: str, **changes: float | bool | None) -> ProbeReport:
    """A suite run's probe report with some numbers replaced."""
    report = copy.deepcopy(json.loads((RUNS / f"{template_run}.json").read_text())["probe"])
    for path, value in changes.items():
        node = report
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return ProbeReport.model_validate(report)


def recomputed_training(reported: float, recomputed: float) -> ProbeReport:
    """A re-evaluation whose recomputed training loss is `recomputed` against the `reported`
    one, validation recomputed as reported."""
    return probe_like(
        "loss_computation_mismatch-1",
        loss_recompute__train_reported=reported,
        loss_recompute__train_recomputed=recomputed,
        loss_recompute__train_log_ratio=math.log(reported / recomputed),
        loss_recompute__val_log_ratio=0.0,
    )


def reevaluated_causes(run_name: str, **changes: float | bool | None) -> dict[str, float]:
    """The causes a suite run's losses report beside its probe report, some numbers replaced."""
    run = SUITE_BY_NAME[run_name]
    probe = probe_like(run_name, **changes)
    result = diagnose(history(*curves_of(run), run.history.config, probe=probe))
    return {c.id: c.confidence for c in result.causes}


def test_a_recomputed_loss_a_factor_apart_only_matters_when_the_difference_does():
    # Training ends at 0.0012 while the checkpoint recomputes 0.0005: a factor of 2.4, worth
    # 0.07% of where training started. A loss summed instead of averaged is apart by far more.
    epochs = np.arange(1, 21)
    train = 0.001 + 1.0 * np.exp(-epochs / 2)
    val = 1.2 * train

    def mismatch(reported: float, recomputed: float) -> bool:
        result = diagnose(history(train, val, probe=recomputed_training(reported, recomputed)))
        return next(s for s in result.symptoms if s.id == "loss_scale_mismatch").present

    assert not mismatch(0.0012, 0.0005)
    assert mismatch(0.0012 * 32, 0.0012)


def test_a_checkpoint_past_a_non_finite_loss_is_not_compared_with_the_last_finite_one():
    # Validation reported 2e11 at its last finite epoch, then NaN; the checkpoint, where the run
    # ended, scores 4e35. The loss is not computed differently: the model went on diverging.
    epochs = np.arange(1, 21, dtype=float)
    train = 1.1 * np.exp(epochs)
    val = 1.2 * np.exp(epochs)

    def mismatch(last_val: float) -> bool:
        reported = float(val[-2] if math.isnan(last_val) else last_val)
        probe = probe_like(
            "loss_computation_mismatch-1",
            loss_recompute__val_reported=reported,
            loss_recompute__val_recomputed=4e35,
            loss_recompute__val_log_ratio=math.log(reported / 4e35),
            loss_recompute__train_log_ratio=0.0,
        )
        ended = np.append(val[:-1], last_val)
        result = diagnose(history(train, ended, probe=probe))
        return next(s for s in result.symptoms if s.id == "loss_scale_mismatch").present

    assert not mismatch(math.nan)
    assert mismatch(float(val[-1]))  # finite to the end: the checkpoint is what was reported


def test_a_training_loss_that_swings_beside_a_smooth_validation_is_compared_with_the_checkpoint():
    # The reported training loss swings by a factor of 5 from epoch to epoch (one batch of a
    # handful reported as the epoch's) and ends at a third of what the checkpoint recomputes on
    # the whole training set. Weights that swung would move validation, measured at one
    # instant, as much: where it stays smooth the swings are in the report, and the recompute
    # tells the loss is another quantity. Where validation swings too, the weights did, and an
    # epoch's mean is no loss of the weights the epoch ended with.
    epochs = np.arange(1, 41, dtype=float)
    smooth = 0.1 + 1.0 * np.exp(-epochs / 5)
    swings = np.where(epochs % 2 == 0, 0.35, 1.6) * np.where(epochs % 3 == 0, 0.5, 1.0)
    train = smooth * 0.4 * swings

    def mismatch(val: np.ndarray) -> bool:
        probe = recomputed_training(float(train[-1]), 3.0 * float(train[-1]))
        result = diagnose(history(train, val, probe=probe))
        assert "unstable_training" in {s.id for s in result.symptoms if s.present}
        return next(s for s in result.symptoms if s.id == "loss_scale_mismatch").present

    assert mismatch(1.5 * smooth)
    assert not mismatch(1.5 * smooth * np.roll(swings, 1))


def test_a_smooth_training_mean_beside_a_swinging_validation_is_no_loss_of_the_checkpoint():
    # SGD far above its usual rate: the epoch-mean training loss falls smoothly to 0.2 while
    # validation, measured on 20 samples at one instant of the weights each epoch, jumps
    # between 0.13 and 0.4 (too few samples for its jitter to say the training was unstable);
    # the checkpoint recomputes the training loss at 2.5 times the reported mean. The
    # weights swing, and an epoch's mean is no loss of the weights it ended with: no mismatch.
    # Beside a validation that stays smooth, the same recompute is another quantity.
    rng = np.random.default_rng(4)
    epochs = np.arange(1, 41, dtype=float)
    train = 0.2 + 2.0 * np.exp(-epochs / 1.5)
    swinging = rng.uniform(0.13, 0.4, 40)

    def mismatch(val: np.ndarray) -> bool:
        probe = recomputed_training(float(train[-1]), 2.5 * float(train[-1]))
        result = diagnose(history(train, val, config={"val_size": 20}, probe=probe))
        assert "unstable_training" not in {s.id for s in result.symptoms if s.present}
        return next(s for s in result.symptoms if s.id == "loss_scale_mismatch").present

    assert not mismatch(swinging)
    assert mismatch(np.full(40, 0.25) + rng.normal(0, 0.002, 40))


def test_a_batch_norm_model_reporting_less_than_it_scores_is_no_loss_computed_differently():
    # A batch-norm model trained on batches sorted by label: each batch normalized by its own
    # statistics, training reports 0.6 while the checkpoint scores 1.8 on the shuffled training
    # set (in train and in eval mode). Batch statistics lowered the reported loss; the same
    # model reporting three times what it scores summed its loss, and a model without batch norm
    # reporting a third of it reported another quantity.
    epochs = np.arange(1, 31, dtype=float)
    train = 0.6 + 1.0 * np.exp(-epochs / 4)
    val = 1.9 + 0.3 * np.exp(-epochs / 4)

    def mismatch(reported: float, batch_norm: bool) -> bool:
        probe = recomputed_training(reported, 1.8)
        probe = probe.model_copy(
            update={"model": probe.model.model_copy(update={"has_batchnorm": batch_norm})}
        )
        result = diagnose(history(train, val, probe=probe))
        return next(s for s in result.symptoms if s.id == "loss_scale_mismatch").present

    assert not mismatch(0.6, batch_norm=True)
    assert mismatch(5.4, batch_norm=True)
    assert mismatch(0.6, batch_norm=False)


def shifted_split(auc: float, shifted: int, tested: int, **more: float) -> tuple[bool, list[str]]:
    """Whether a re-evaluation whose feature tests found `shifted` of `tested` input features
    shifted (and a classifier told the splits apart with `auc`) shows `split_shift`, and the
    causes reported, on curves with validation above training."""
    epochs = np.arange(1, 21)
    train = 0.2 + 1.0 * np.exp(-epochs / 3)
    val = 0.35 + 0.9 * np.exp(-epochs / 3)
    probe = probe_like(
        "preprocessing_mismatch-0",
        split_shift__adversarial_auc=auc,
        split_shift__features_shifted=shifted,
        split_shift__features_tested=tested,
        **{f"split_shift__{key}": value for key, value in more.items()},
    )
    result = diagnose(history(train, val, probe=probe))
    return next(s for s in result.symptoms if s.id == "split_shift").present, ids(result)


def test_one_significantly_shifted_feature_is_no_shift_between_the_splits():
    # With thousands of samples a test finds one of 58 input features shifted while a
    # classifier cannot tell the splits apart (AUC 0.5): preprocessing that differs between the
    # splits moves nearly every feature, and this re-evaluation found no sign of it.
    shift, causes = shifted_split(0.5, 1, 58)
    assert not shift and "preprocessing_mismatch" not in causes
    assert shifted_split(0.5, 30, 58)[0]
    assert shifted_split(0.99, 58, 58)[0]


def test_one_shifted_feature_of_two_is_chance_not_a_shift():
    # Two-dimensional inputs split at random: under the probe's 5% false discovery rate one of
    # the two features tests as shifted in one run in twenty, and a classifier tells the
    # splits apart no better than chance (AUC 0.56). Both features shifting is a shift.
    assert not shifted_split(0.56, 1, 2)[0]
    assert shifted_split(0.56, 2, 2)[0]


def test_features_that_shift_by_a_negligible_amount_are_no_shift_between_the_splits():
    # Two of eight features test as shifted between a random split's 800 and 400 samples, the
    # largest by 0.06 training standard deviations, the spreads alike (AUC 0.54): significant
    # and negligible. Preprocessing that differs moves features by far more.
    spreads = {"median_abs_log_scale_ratio": 0.046}
    assert not shifted_split(0.54, 2, 8, max_abs_mean_shift=0.06, **spreads)[0]
    assert shifted_split(0.54, 2, 8, max_abs_mean_shift=0.4, **spreads)[0]


def test_a_shift_of_some_input_features_is_a_draw_of_other_samples_not_a_transform():
    # Validation scoring worse in eval mode on inputs a classifier tells apart. A transform of one
    # split's inputs (scaled, offset, normalized with other statistics) moves nearly every
    # feature; a validation set drawn from another part of the data moves the features that tell
    # its samples apart (5 of 20 on an imbalanced table, whose overfit model scored it worse).
    def present(shifted: int) -> set[str]:
        run = SUITE_BY_NAME["second-preprocessing_mismatch-4"]
        probe = probe_like(
            "second-preprocessing_mismatch-4",
            split_shift__adversarial_auc=0.76,
            split_shift__features_shifted=shifted,
        )
        result = diagnose(history(*curves_of(run), run.history.config, probe=probe))
        return {s.id for s in result.symptoms if s.present}

    drawn, transformed = present(12), present(48)
    assert "split_shift" in drawn and "split_shift" in transformed
    assert "inputs_transformed" not in drawn and "shifted_split_measured" not in drawn
    assert {"inputs_transformed", "shifted_split_measured"} <= transformed


def test_a_reported_loss_above_the_eval_mode_one_is_training_time_behaviour_only_if_there_is_any():
    # A model with no dropout, batch norm, smoothing or augmentation whose training loss is
    # reported summed over a batch: the reported loss sits far above the eval-mode one, and
    # nothing that happens only in training can be why.
    epochs = np.arange(1, 21)
    val = 0.2 + 1.0 * np.exp(-epochs / 4)
    train = 32 * (0.15 + 1.0 * np.exp(-epochs / 4))
    probe = probe_like("loss_computation_mismatch-0")

    def effect(config):
        result = diagnose(history(train, val, config, probe=probe))
        symptom = next(s for s in result.symptoms if s.id == "train_time_effect")
        return symptom, result

    bare, result = effect({})
    assert not bare.present and "how the loss is reported" in bare.detail
    assert "training-time behaviour" not in result.summary
    assert not {"regularization_train_only", "augmentation_train_only"} & set(ids(result))
    # Dropout declared, but the probe scored the model in train mode: a loss 32 times what
    # it scores there is not what dropout does.
    summed, _ = effect({"dropout": 0.5})
    assert not summed.present and "cannot make it" in summed.detail
    # A reported loss 30% above the eval-mode one, within what the model in train mode scores.
    eval_mean = probe.passes.train_eval.mean
    modest = {
        "decomposition__reported_train": 1.3 * eval_mean,
        "decomposition__train_time_effect__value": 0.3 * eval_mean,
        "decomposition__train_time_effect__ci_low": 0.25 * eval_mean,
        "decomposition__train_time_effect__ci_high": 0.35 * eval_mean,
    }
    probe = probe_like("loss_computation_mismatch-0", **modest)
    assert effect({"dropout": 0.5})[0].present
    # Dropout modules built with p=0: switching train mode on changes nothing.
    for mode_mean, active in ((eval_mean, False), (eval_mean * 1.2, True)):
        probe = probe_like(
            "loss_computation_mismatch-0",
            model__has_dropout=True,
            passes__train_train_mode__mean=mode_mean,
            **modest,
        )
        assert effect({})[0].present is active


def test_a_reported_loss_many_times_the_model_s_own_in_train_mode_is_no_regularization():
    # A ResNet with dropout and batch norm whose training loss is summed over 64 samples: the
    # reported loss is 64 times what the checkpoint scores on the training set in train mode,
    # dropout and batch statistics at work. Regularization cannot make that.
    epochs = np.arange(1, 26)
    val = 1.38 + 0.01 * np.exp(-epochs / 4)
    train = 64 * (1.39 + 0.01 * np.exp(-epochs / 4))
    probe = probe_like("second-loss_computation_mismatch-2")
    result = assess(history(train, val, probe=probe))
    effect = result.symptoms["train_time_effect"]
    assert not effect.present and "64" in effect.detail
    assert "regularization_train_only" not in result.scores
    assert result.scores["loss_computation_mismatch"] >= 0.5


def test_augmented_training_inputs_do_not_make_validation_look_easier():
    # The probe scores the training set on one augmented draw, as training saw it, and on the
    # raw inputs: augmentation makes the training set score worse than validation, the raw
    # inputs do not. Whether the splits differ is a question about the raw inputs.
    run = next(r for r in SUITE if r.name == "augmentation_train_only-0")
    report = run.history.probe
    assert report is not None and report.decomposition.augmentation_effect is not None

    def easier(probe: ProbeReport) -> bool:
        result = diagnose(history(*curves_of(run), probe=probe))
        return next(s for s in result.symptoms if s.id == "eval_val_below").present

    assert not easier(report)
    assert easier(probe_like("augmentation_train_only-0", decomposition__augmentation_effect=None))


def test_a_shift_measured_on_an_augmented_draw_is_the_augmentation_not_the_split():
    # A report that compared an augmented draw with validation (probes before they compared
    # the raw inputs) measured what augmentation does to the inputs: the splits were not
    # compared. One that compared the raw inputs did compare them.
    run = next(r for r in SUITE if r.name == "augmentation_train_only-0")

    def shift(probe: ProbeReport | None) -> bool | None:
        result = diagnose(history(*curves_of(run), probe=probe))
        found = [s.present for s in result.symptoms if s.id == "split_shift"]
        return found[0] if found else None

    augmented_draw = {
        "split_shift__adversarial_auc": 0.99,
        "split_shift__features_shifted": 44,
        "split_shift__features_tested": 58,
    }
    old = probe_like("augmentation_train_only-0", split_shift__raw_inputs=None, **augmented_draw)
    assert shift(old) is None
    raw = probe_like("augmentation_train_only-0", split_shift__raw_inputs=True, **augmented_draw)
    assert shift(raw) is True


def test_labels_and_a_shuffled_split_judged_on_an_augmented_draw_are_not_evidence():
    # Older probes judged training labels, and pooled training losses against validation's, on
    # the augmented draw training saw: masked or noised inputs are confidently misclassified
    # and score worse, whatever the labels and the split. Such a report says nothing of either.
    def label_noise(**changes: float | bool | None) -> dict[str, float]:
        probe = probe_like(
            "augmentation_train_only-13",
            label_noise__train_confident_wrong=0.2,
            label_noise__val_confident_wrong=0.01,
            shuffled_split__z=-6.0,
            **changes,
        )
        features = assess(
            history(*curves_of(SUITE_BY_NAME["augmentation_train_only-13"]), probe=probe)
        ).features
        return {k: features[k] for k in ("pr_noise_excess", "pr_perm_z")}

    old = label_noise(label_noise__raw_inputs=None, shuffled_split__raw_inputs=None)
    assert old == {"pr_noise_excess": 0.0, "pr_perm_z": 0.0}
    raw = label_noise(label_noise__raw_inputs=True, shuffled_split__raw_inputs=True)
    assert raw["pr_noise_excess"] > 0.1 and raw["pr_perm_z"] < -1


def generalization_probe(
    train_eval: float, val_eval: float, half_width: float, **more: float
) -> ProbeReport:
    """A re-evaluation in which the training set scores `train_eval` and validation `val_eval`
    in eval mode, the gap known to within `half_width`."""
    gap = train_eval - val_eval
    return probe_like(
        "regularization_train_only-3",
        passes__train_eval__mean=train_eval,
        passes__val_eval__mean=val_eval,
        decomposition__eval_gap__value=gap,
        decomposition__eval_gap__ci_low=gap - half_width,
        decomposition__eval_gap__ci_high=gap + half_width,
        **more,
    )


def test_a_generalization_gap_alone_is_not_training_past_the_best_point():
    # Validation sits a constant 0.2 above training from the first epoch and never turns up; a
    # re-evaluation confirms the model scores its training set better than validation. That
    # gap is how far validation is from training, not overfitting: stopping earlier would not
    # have helped.
    epochs = np.arange(1, 31)
    train = 0.3 + 1.5 * np.exp(-epochs / 5)
    val = train + 0.2
    probe = generalization_probe(0.3, 0.5, 0.05)
    result = diagnose(history(train, val, probe=probe))
    present = {s.id for s in result.symptoms if s.present}
    assert {"val_above_train", "eval_val_above"} <= present
    assert not present & {"val_rises_after_min", "gap_widens"}
    assert "overfitting" not in ids(result)


def test_a_reevaluation_that_finds_no_rejected_training_labels_rules_them_out():
    # A run whose training labels were noisy: validation sits below training beyond any lag.
    # Re-evaluated, the model rejects a fifth of its training labels against 1.4% of
    # validation's: noisy labels, confirmed. Had it rejected no more training labels than
    # validation's, wrong labels are ruled out, whatever the eval-mode gap (an easier split or
    # copies make that too): a model that has not memorized them rejects them, and one that has
    # leaves a low training loss, not one above validation's. A trace (4 points) keeps them.
    run = SUITE_BY_NAME["label_noise_train-0"]

    def causes(rejected: float | None = None, **changes: float) -> dict[str, float]:
        if rejected is not None:
            changes["label_noise__train_confident_wrong"] = rejected
        return reevaluated_causes("label_noise_train-0", **changes)

    assert causes()["label_noise_train"] >= CONFIRMED
    assert "label_noise_train" not in causes(rejected=0.014)
    assert "label_noise_train" in causes(rejected=0.054)
    # Under 3 points more than validation's (1.4%), a trace that harder samples kept in training
    # leave as well: a candidate, never a claim.
    assert 0 < causes(rejected=0.04)["label_noise_train"] <= UNCLAIMED
    # A model barely above chance on its ten classes (validation at 2.0, chance at 2.3) finds no
    # label a third as likely as the class it predicts, wrong or not: no rejection is no evidence.
    assert "label_noise_train" in causes(rejected=0.014, passes__val_eval__mean=2.0)
    # A history alone measured nothing of the labels.
    assert "label_noise_train" in ids(diagnose(history(*curves_of(run), run.history.config)))


def test_rejected_labels_too_few_for_the_accuracy_gap_do_not_make_it_noisy_labels():
    # The same noisy-label run with its accuracies: training at 0.73, validation at 0.92, and
    # the model rejecting 21 points more of training's labels than validation's. Each wrong
    # label it rejects costs training a point of accuracy, so they account for the gap: noisy
    # labels, confirmed. Rejecting 4 points more against that 19-point gap, they account for a
    # fifth of it: the rest is training samples harder than validation's (an easier split keeps
    # the ambiguous ones in training, whose labels the model rejects too), and wrong labels are
    # ruled out. Without accuracies logged the 4 points stay a trace.
    run = SUITE_BY_NAME["label_noise_train-0"]

    def causes(history: History, **changes: float) -> dict[str, float]:
        probe = probe_like("label_noise_train-0", **changes)
        result = diagnose(replace(history, probe=probe))
        return {c.id: c.confidence for c in result.causes}

    trace = {"label_noise__train_confident_wrong": 0.054}
    assert causes(run.history)["label_noise_train"] >= CONFIRMED
    assert "label_noise_train" not in causes(run.history, **trace)
    losses_only = history(*curves_of(run), run.history.config)
    assert "label_noise_train" in causes(losses_only, **trace)
    # A model barely above chance (2.0 against 2.3) rejects only some of the wrong labels: its
    # count falls short of the accuracy they cost by its nature, and the trace stays one.
    assert "label_noise_train" in causes(run.history, **trace, passes__val_eval__mean=2.0)


def test_noisy_labels_need_training_to_score_worse_than_validation_in_eval_mode():
    # Wrong training labels the model has not memorized give its training set a floor in eval
    # mode that validation does not share. Re-evaluated with validation no better than training
    # in eval mode, the reported gap is someone else's (dropout, the lag): not noisy labels,
    # whatever the fitted models read into the history.
    assert "label_noise_train" in reevaluated_causes("label_noise_train-0")
    no_floor = {
        "decomposition__eval_gap__value": -0.02,
        "decomposition__eval_gap__ci_low": -0.05,
        "decomposition__eval_gap__ci_high": 0.01,
    }
    assert "label_noise_train" not in reevaluated_causes("label_noise_train-0", **no_floor)


def test_a_regression_missing_validation_as_widely_as_the_mean_does_not_rule_out_wrong_targets():
    # Re-evaluated, a regression whose model counts no more gross training residuals than
    # validation's: wrong targets are ruled out where its residuals are narrow next to the
    # targets' spread, since a wrong target would stand out. A model that misses validation
    # nearly as widely as predicting the mean (residual share 0.95) has residuals as wide as a
    # wrong target's error: its count is no measurement, and noisy labels stay a candidate.
    def causes(**changes: float) -> dict[str, float]:
        return reevaluated_causes(
            "second-label_noise_train-2", label_noise__train_confident_wrong=0.0, **changes
        )

    assert "label_noise_train" not in causes()  # reports before the share was measured
    assert "label_noise_train" not in causes(label_noise__residual_share=0.3)
    assert "label_noise_train" in causes(label_noise__residual_share=0.95)


def test_a_model_too_unsure_to_reject_a_label_leaves_noisy_labels_a_candidate_never_claimed():
    # A ten-class run whose validation sits below training beyond any lag, re-evaluated with
    # validation better in eval mode too. Its model at 2.0 against chance's 2.3 rejects no label,
    # wrong or not, and rejected no more of training's than of validation's: the count shows
    # nothing, and the eval-mode gap is as much the samples the splits drew (an easier split
    # makes it too). Noisy labels stay a candidate, not a claim. Had that unsure model rejected
    # 4 points more of training's labels, the excess is a measurement however unsure it is.
    def unsure(rejected: float, val_eval: float = 2.0) -> tuple[dict[str, float], frozenset[str]]:
        probe = probe_like(
            "label_noise_train-0",
            label_noise__train_confident_wrong=rejected,
            passes__val_eval__mean=val_eval,
        )
        run = SUITE_BY_NAME["label_noise_train-0"]
        result = diagnose(history(*curves_of(run), run.history.config, probe=probe))
        found = frozenset(s.id for s in result.symptoms if s.present)
        return {c.id: c.confidence for c in result.causes}, found

    scores, found = unsure(0.014)
    assert "labels_unjudged" in found
    assert 0 < scores["label_noise_train"] <= UNCLAIMED
    scores, found = unsure(0.054)
    assert "labels_rejected" in found and "labels_unjudged" not in found
    assert scores["label_noise_train"] > UNCLAIMED
    # A model scoring validation worse than chance (3.0 against 2.3) predicts nothing: the labels
    # it "rejects", a fifth of training's, are its own errors, and confirm nothing.
    scores, found = unsure(0.2, val_eval=3.0)
    assert "labels_unjudged" in found and not {"labels_rejected", "noisy_labels"} & found
    assert scores["label_noise_train"] <= UNCLAIMED
    assert unsure(0.2)[0]["label_noise_train"] >= CONFIRMED
    # So for a regression whose residuals are as wide as its targets' spread.
    wide = reevaluated_causes(
        "second-label_noise_train-2",
        label_noise__train_confident_wrong=0.0,
        label_noise__residual_share=0.95,
    )
    assert 0 < wide["label_noise_train"] <= UNCLAIMED


def test_an_excess_of_rejected_labels_that_drawing_a_small_validation_set_leaves_confirms_nothing():
    # A model rejects some of any split's labels (its own mistakes). Rejecting 37% of training's
    # labels against 30% of validation's is wrong labels measured on 359 validation samples,
    # whose share is drawn within +-2.4 points; on 40, within +-7, the same excess is what the
    # draw leaves: the count is no measurement either way, and noisy labels stay a candidate.
    def reevaluated(n_val: int) -> tuple[dict[str, float], frozenset[str]]:
        probe = probe_like(
            "label_noise_train-0",
            n_val=n_val,
            label_noise__train_confident_wrong=0.37,
            label_noise__val_confident_wrong=0.30,
        )
        run = SUITE_BY_NAME["label_noise_train-0"]
        result = diagnose(history(*curves_of(run), run.history.config, probe=probe))
        found = frozenset(s.id for s in result.symptoms if s.present)
        return {c.id: c.confidence for c in result.causes}, found

    scores, found = reevaluated(359)
    assert {"labels_rejected", "noisy_labels"} <= found
    assert scores["label_noise_train"] >= CONFIRMED
    scores, found = reevaluated(40)
    assert "labels_unjudged" in found and not {"labels_rejected", "noisy_labels"} & found
    assert 0 < scores["label_noise_train"] <= UNCLAIMED


def test_validation_no_better_than_training_in_eval_mode_is_no_easier_split():
    # Validation below training beyond any lag, and re-evaluated the model scores validation
    # lower in eval mode too: an easier split, claimed. Had the eval-mode pass scored validation
    # no better than the training set (validation 0.02 above, the interval spanning 0), what
    # put it below the reported training loss is no easier distribution, which by definition
    # scores lower even in eval mode.
    def causes(**changes: float) -> dict[str, float]:
        return reevaluated_causes("easier_validation-0", **changes)

    assert causes()["easier_validation"] >= 0.5
    no_better = causes(
        decomposition__eval_gap__value=-0.02,
        decomposition__eval_gap__ci_low=-0.05,
        decomposition__eval_gap__ci_high=0.01,
    )
    assert "easier_validation" not in no_better


def curves_of(run) -> tuple[np.ndarray, np.ndarray]:
    series = run.history.epoch_series
    return series["train_loss"].values, series["val_loss"].values


def test_a_reevaluation_that_finds_a_generalization_gap_says_so_and_rules_out_dropout():
    # The newcomer's digits MLP: the training set scores 0.0008 in eval mode, validation 0.119,
    # and dropout adds only +0.013 to the reported training loss.
    epochs = np.arange(1, 31)
    train = 0.014 + 1.9 * np.exp(-epochs / 3)
    val = 0.119 + 1.4 * np.exp(-epochs / 3)
    probe = generalization_probe(
        0.0008,
        0.119,
        0.03,
        decomposition__train_time_effect__value=0.013,
        decomposition__train_time_effect__ci_low=0.008,
        decomposition__train_time_effect__ci_high=0.018,
        decomposition__reported_train=0.014,
    )
    result = diagnose(history(train, val, {"dropout": 0.5}, probe=probe))
    assert "regularization_train_only" not in ids(result)
    assert "the gap is generalization" in result.summary
    assert "0.0008" in result.summary and "+0.013" in result.summary
    top = result.causes[0]
    assert top.kind == "problem" or "it cannot explain the end" in result.summary


def test_dropout_that_accounts_for_the_gap_explains_it_however_small_next_to_the_loss():
    # A loss near 0.9 on four classes, validation 0.077 below the reported training loss; in
    # eval mode the two splits score alike, and dropout adds 0.073 to the reported loss: 8% of
    # the loss, but all of the gap the user asks about.
    epochs = np.arange(1, 26)
    train = 0.93 + 0.45 * np.exp(-epochs / 4)
    val = train - 0.077

    def reevaluated(reported_train: float):
        probe = generalization_probe(
            0.855,
            0.853,
            0.06,
            decomposition__train_time_effect__value=0.073,
            decomposition__train_time_effect__ci_low=0.034,
            decomposition__train_time_effect__ci_high=0.112,
            decomposition__reported_train=reported_train,
            passes__train_train_mode__mean=0.855 + 0.073,  # dropout on: what it adds
        )
        return diagnose(history(train, val, {"dropout": 0.5}, probe=probe))

    result = reevaluated(0.929)
    assert "train_time_effect" in {s.id for s in result.symptoms if s.present}
    assert ids(result)[0] == "regularization_train_only"
    # The same effect beside a reported training loss level with validation explains no gap,
    # and 8% of the loss is too little to count on its own.
    result = reevaluated(0.86)
    assert "train_time_effect" not in {s.id for s in result.symptoms if s.present}


def test_the_passes_say_which_training_time_behaviour_adds_to_the_training_loss():
    # An MLP with batch norm and dropout layers built with p=0, at a high rate: the reported
    # training loss sits at 0.15, validation at 0.017. Re-evaluated, the training set scores
    # 0.019 in eval mode; batch statistics alone bring it to 0.091 and dropout switched on
    # alone adds nothing. Batch norm is at work; regularization, with no dropout that changes
    # the loss and no term added to it, cannot be.
    epochs = np.arange(1, 31)
    rng = np.random.default_rng(5)
    train = 0.14 + 0.9 * np.exp(-epochs / 4) + rng.normal(0, 0.01, 30)
    val = 0.016 + 0.9 * np.exp(-epochs / 4) + rng.normal(0, 0.001, 30)

    def reevaluated(dropout_adds: float):
        probe = probe_like(
            "second-batchnorm_mode-1",
            passes__train_eval__mean=0.0187,
            passes__val_eval__mean=0.0170,
            passes__train_train_mode__mean=0.0907 + dropout_adds,
            passes__train_dropout_only__mean=0.0187 + dropout_adds,
            passes__train_batchnorm_only__mean=0.0907,
            decomposition__reported_train=0.1525,
            decomposition__reported_val=0.0170,
            decomposition__train_time_effect__value=0.134,
            decomposition__train_time_effect__ci_low=0.127,
            decomposition__train_time_effect__ci_high=0.141,
            decomposition__eval_gap__value=0.0017,
            decomposition__eval_gap__ci_low=-0.011,
            decomposition__eval_gap__ci_high=0.014,
        )
        return diagnose(history(train, val, {"optimizer": "adamw"}, probe=probe))

    inert = reevaluated(0.0)
    found = {s.id for s in inert.symptoms if s.present}
    assert {"train_time_effect", "batchnorm_measured"} <= found
    assert "regularization_measured" not in found
    assert "regularization_train_only" not in ids(inert)
    assert ids(inert)[0] == "batchnorm_mode" and inert.causes[0].confidence >= CONFIRMED
    # Dropout that does add to the loss keeps regularization among the explanations.
    active = reevaluated(0.03)
    assert "regularization_measured" in {s.id for s in active.symptoms if s.present}
    assert "regularization_train_only" in ids(active)


def test_a_cause_needs_its_own_evidence():
    # No accuracy column: accuracy and loss cannot be seen to disagree.
    for run in SUITE:
        if "val_accuracy" not in run.history.epoch_series and "val_acc" not in (
            run.history.epoch_series
        ):
            assert "accuracy_loss_divergence" not in ids(diagnose(run.history)), run.name
    # Every reported cause cites at least one present symptom its mechanism needs.
    for run in SUITE[::7]:
        result = diagnose(run.history)
        present = {s.id for s in result.symptoms if s.present}
        for cause in result.causes:
            needed = set().union(*BY_ID[cause.id].requires)
            assert {e.check for e in cause.evidence} & needed & present, (run.name, cause.id)


def test_three_epochs_are_little_evidence():
    result = diagnose(history([1.93, 1.10, 0.91], [1.21, 0.84, 0.80], {"dropout": 0.5}))
    gap = next(c for c in result.checks if c.id == "gap")
    assert "over the last epoch " in gap.detail and "1 epochs" not in gap.detail
    z = float(gap.detail.rsplit("so the gap is ", 1)[1].split()[0])
    assert z < 5  # no noise can be measured on three points: the standard error stays wide
    rates = cause_model.load().base_rates()
    for cause in result.causes:
        ceiling = rates[cause.id] + (1 - rates[cause.id]) * history_weight(3)
        assert cause.confidence <= ceiling + 1e-3, cause


def test_a_three_epoch_fine_tune_whose_validation_turns_up_has_overfitting_as_a_candidate():
    # The commonest question about a fine-tuning run: validation 0.36, 0.34, 0.41 while training
    # falls from 0.45 to 0.10. Three epochs are too few to tell the rise from noise, and no
    # fitted model has seen runs this short: every compatible cause sits near its prior, and
    # the one whose mechanism the rise is, overfitting, is named as a candidate beside the
    # half-epoch lag that the first epoch's inversion (validation 0.36 under 0.45) is; which
    # of two priors is a hair higher says nothing.
    config = {"dropout": 0.1, "learning_rate": 2e-5, "optimizer": "adamw", "epochs": 3}
    result = diagnose(history([0.45, 0.22, 0.10], [0.36, 0.34, 0.41], config))
    rise = next(s for s in result.symptoms if s.id == "val_rises_after_min")
    assert rise.present and "too few epochs" in rise.detail
    assert {c.id for c in result.causes[:2]} == {"overfitting", "measurement_lag"}
    assert all(0.05 <= c.confidence < 0.5 for c in result.causes[:2])
    # Pulled toward the prior from below as from above: a model's near-zero on three epochs is
    # as little evidence as its near-one.
    symptoms = assess(history([0.45, 0.22, 0.10], [0.36, 0.34, 0.41], config)).symptoms
    low = confidences({"overfitting": 0.01}, symptoms, 3, {"overfitting": 0.3})
    assert low["overfitting"] == pytest.approx(0.3 + (0.01 - 0.3) * history_weight(3))


def test_a_tiny_significant_decline_at_the_end_is_not_unfinished_training():
    # A cosine schedule's tail: validation still falls every epoch, by under 2% of the loss in
    # the last quarter. Significant, and not worth more epochs.
    epochs = np.arange(1, 41)
    train = 0.30 + 1.5 * np.exp(-epochs / 5) - 0.0004 * epochs
    val = 0.36 + 1.2 * np.exp(-epochs / 5) - 0.0004 * epochs
    result = diagnose(history(train, val))
    still = next(s for s in result.symptoms if s.id == "still_improving")
    assert not still.present and still.value is not None and still.value < 0.05
    assert "not_converged" not in ids(result)


def test_a_fall_large_next_to_a_tiny_final_loss_but_not_next_to_the_start_is_not_unfinished():
    # An easy problem: validation falls from 0.8 to about 0.01 in ten epochs, then creeps from
    # 0.0115 to 0.010. That is 15% of the final loss level and 0.2% of where it started: more
    # epochs cannot matter in practice.
    epochs = np.arange(1, 41)
    train = 0.002 + 1.0 * np.exp(-epochs / 3) + 0.003 * (1 - epochs / 40)
    val = 0.010 + 0.8 * np.exp(-epochs / 3) + 0.006 * (1 - epochs / 40)
    result = diagnose(history(train, val))
    still = next(s for s in result.symptoms if s.id == "still_improving")
    assert still.value is not None and still.value >= 0.05  # large next to the level ...
    assert not still.present  # ... and not material next to the start
    assert "of its first value" in still.detail
    assert "not_converged" not in ids(result)


def test_a_rise_after_the_minimum_too_small_to_matter_is_not_overfitting():
    # Validation falls from 2.0 to 0.1 and creeps up by 0.012: significant next to its tiny
    # jitter, a tenth of the loss level, and 0.6% of where it started. The best checkpoint would
    # be no better in practice; ten times that rise would be.
    epochs = np.arange(1, 41)
    train = 0.006 + 2.1 * np.exp(-(epochs - 1) / 3)
    val = 0.1 + 1.9 * np.exp(-(epochs - 1) / 3)

    def rise(scale: float):
        bumped = val + scale * 0.012 * np.clip(epochs - 20, 0, 20) / 20
        result = diagnose(history(train, bumped))
        found = next(s for s in result.symptoms if s.id == "val_rises_after_min")
        material = next(s for s in result.symptoms if s.id == "val_rise_material")
        assert material.present == (scale > 1)
        overfit = max((c.confidence for c in result.causes if c.id == "overfitting"), default=0)
        return found, overfit

    small, overfit = rise(1.0)
    assert small.value is not None and small.value >= 0.05 and not small.present
    # The gap widens as validation creeps up beside a training loss still falling: overfitting
    # stays a candidate, never a claim, without the material rise.
    assert overfit < 0.5
    large, overfit = rise(10.0)
    assert large.present and overfit >= 0.5


def test_a_run_that_trained_every_planned_epoch_was_not_stopped_early():
    # Validation falls steeply, bottoms out three epochs before the end and bumps up a little:
    # what early stopping with a small patience leaves. It fired only if the run ended before
    # the epochs its config plans.
    epochs = np.arange(1, 21)
    val = 0.4 + 1.6 * np.exp(-epochs / 4)
    val[-3:] = val[-4] + np.array([0.004, 0.006, 0.008])
    train = val - 0.05

    def premature(planned: int) -> bool:
        result = diagnose(history(train, val, {"epochs": planned, "early_stopping_patience": 3}))
        assert next(s for s in result.symptoms if s.id == "ended_after_bump").present
        return "premature_early_stopping" in ids(result)

    assert premature(100)
    assert not premature(20)


def test_a_curve_still_falling_fast_is_unfinished_training():
    epochs = np.arange(1, 9)
    train = 1.4 * np.exp(-epochs / 12)
    val = 1.38 * np.exp(-epochs / 12) + 0.01
    result = diagnose(history(train, val, {"learning_rate": 0.005}))
    assert next(s for s in result.symptoms if s.id == "still_improving").present
    assert "not_converged" in ids(result)[:2]


def test_a_short_run_levelling_off_is_finished_and_one_slowing_gently_is_not():
    # Four epochs of fine-tuning: validation 0.40, 0.33, 0.31, 0.305. Every epoch is lower, but
    # each step is a quarter of the one before: five more epochs at that pace gain 0.002, half
    # a percent of the loss. A six-epoch run whose steps shrink by a sixth each (0.065 to 0.029)
    # would gain another tenth of its loss: the first generator's continued run gained 9%.
    config = {"learning_rate": 2e-5, "optimizer": "adamw", "epochs": 4, "dropout": 0.1}
    levelling = diagnose(history([0.60, 0.35, 0.28, 0.25], [0.40, 0.33, 0.31, 0.305], config))
    still = next(s for s in levelling.symptoms if s.id == "still_improving")
    assert not still.present and still.value is not None and still.value < 0.01
    assert "would fall" in still.detail and "5 more epochs" in still.detail
    assert "not_converged" not in ids(levelling)
    train = [1.3545, 1.2708, 1.2091, 1.1603, 1.1197, 1.0853]
    val = [1.3094, 1.2442, 1.1927, 1.1508, 1.116, 1.0868]
    slowing = diagnose(history(train, val, {"epochs": 6}))
    still = next(s for s in slowing.symptoms if s.id == "still_improving")
    assert still.present and still.value is not None and still.value > 0.05
    assert "not_converged" in ids(slowing)[:2]


def test_a_loud_gap_always_gets_its_candidate_explanations():
    # A regression run whose validation loss sits three times below training for 25 epochs.
    rng = np.random.default_rng(3)
    epochs = np.arange(1, 26)
    train = 3.0 + 6.0 * np.exp(-epochs / 4) + rng.normal(0, 0.02, 25)
    val = 1.0 + 2.0 * np.exp(-epochs / 4) + rng.normal(0, 0.02, 25)
    result = diagnose(history(train, val, task="regression"))
    below = next(s for s in result.symptoms if s.id == "val_below_train")
    assert below.present and below.explained_by
    assert 0 <= (below.unexplained or 0) <= 1 and below.settle
    assert below.explained_by[0] in ids(result)
    for cause_id in below.explained_by:
        assert any("val_below_train" in group for group in BY_ID[cause_id].requires)
    assert "No cause in the catalog stands out" not in result.summary
    assert BY_ID[result.causes[0].id].title.lower() in result.summary


def test_a_training_that_learned_nothing_gets_its_candidate_explanations():
    # Twenty epochs of a regression logged without validation or config, the loss within a
    # hair of where it began (a real SGD program's record reads like this): whatever the
    # models think likely, the user hears which mechanisms leave a training stuck.
    rng = np.random.default_rng(5)
    train = 0.667 + rng.normal(0, 0.001, 20)
    result = diagnose(history(train, None, task="regression"))
    stuck = next(s for s in result.symptoms if s.id == "train_stuck")
    assert stuck.present and stuck.value is not None and abs(stuck.value) < 0.05
    assert set(stuck.explained_by) <= {"underfitting", "lr_too_low"} and stuck.explained_by
    assert stuck.explained_by[0] in ids(result)
    # A loss that fell by a tenth over the same epochs learned something.
    moving = diagnose(history(np.linspace(0.667, 0.6, 20), None, task="regression"))
    assert not next(s for s in moving.symptoms if s.id == "train_stuck").present


def test_every_candidate_of_a_loud_symptom_left_mostly_unexplained_is_listed():
    # A real Keras program's record (peers/howreal/hr04): SGD on y = x^2 + 3 for 1000 epochs,
    # the training loss 2354 -> 2312. The likelier mechanism alone (a model too weak) leaves
    # most of it open; the user must also hear the other way to leave a training stuck.
    document = json.loads((FIXTURES / "peers" / "howreal" / "hr04.json").read_text())
    result = diagnose(history_from_document({"name": "hr04", **document}))
    stuck = next(s for s in result.symptoms if s.id == "train_stuck")
    assert set(stuck.explained_by) == {"underfitting", "lr_too_low"}
    assert stuck.unexplained is not None and stuck.unexplained >= UNEXPLAINED
    assert set(stuck.explained_by) <= set(ids(result))


@pytest.mark.parametrize("name", ["overfitting-0", "overfitting-12", "lr_too_high-16"])
def test_duplicates_found_by_a_reevaluation_decide_leakage(name):
    run = next(r for r in SUITE if r.name == name)
    probe = probe_like(
        name,
        leakage__near_duplicates=144,
        leakage__exact_duplicates=20,
        leakage__leaked_fraction=0.4,
        leakage__leaked_val_loss=0.01,
    )
    result = diagnose(History(**{**run.history.__dict__, "probe": probe}))
    leak = next(c for c in result.causes if c.id == "data_leakage")
    assert leak.confidence >= LEAK_CONFIRMED
    assert any(e.check == "duplicates" for e in leak.evidence)


def test_a_reevaluation_that_finds_no_copies_refutes_leakage():
    leaks = [r for r in SUITE if "data_leakage" in r.planted and r.history.probe]
    run = leaks[0]
    clean = probe_like(
        run.name,
        leakage__near_duplicates=0,
        leakage__exact_duplicates=0,
        leakage__leaked_fraction=0.0,
    )
    assert "data_leakage" in ids(diagnose(run.history))
    result = diagnose(History(**{**run.history.__dict__, "probe": clean}))
    assert "data_leakage" not in ids(result)


def near_copies(copies: float, rest: float, **more: float):
    """A leakage plant's re-evaluation finding half of validation near-copied in training, the
    model scoring those `copies` and the rest `rest`."""
    run = next(r for r in SUITE if "data_leakage" in r.planted and r.history.probe)
    assert run.history.probe and run.history.probe.leakage
    probe = probe_like(
        run.name,
        leakage__exact_duplicates=0,
        leakage__near_duplicates=run.history.probe.n_val // 2,
        leakage__leaked_fraction=0.5,
        leakage__leaked_val_loss=copies,
        leakage__clean_val_loss=rest,
        **more,
    )
    return assess(History(**{**run.history.__dict__, "probe": probe}))


def test_near_copies_the_model_scores_no_better_leak_nothing():
    # Small tabular sets hold near-identical samples on both sides of any split; they leak only
    # what the model learned from them.
    a = near_copies(0.9, 0.8)
    assert not a.symptoms["duplicates"].present
    assert "data_leakage" not in a.scores
    b = near_copies(0.1, 0.8)
    assert b.symptoms["duplicates"].present and b.scores["data_leakage"] >= LEAK_CONFIRMED


@pytest.mark.parametrize(
    ("copies", "rest", "p_value", "leaks"),
    [
        (0.011, 0.0115, 0.61, False),  # an easy validation set: copies score like the rest
        (0.065, 0.086, 0.04, True),  # better, significantly
        (0.0002, 0.0015, 0.48, True),  # a seventh of the rest's loss, too few left to test
        (0.065, 0.086, 0.3, False),  # a little better, by chance
        (0.690, 0.696, 0.03, False),  # significantly, by 1%: a model at chance learned nothing
    ],
)
def test_near_copies_leak_when_the_model_scores_them_measurably_better(
    copies: float, rest: float, p_value: float, leaks: bool
):
    # A validation set drawn from the dense, easy part of the data has near copies in training
    # beyond chance; the model learned nothing from them that it did not learn from their
    # neighbours, and scores them like the rest of validation.
    a = near_copies(copies, rest, leakage__p_value=p_value)
    assert a.symptoms["duplicates"].present is leaks


@pytest.mark.parametrize(
    ("copies", "rest", "clean", "leaks"),
    [
        (0.05, 0.80, 150, True),  # learned from them: scored far better than the rest
        (0.69, 0.69, 150, False),  # a model that learned nothing from them scores them alike
        (0.90, 0.70, 150, False),  # worse than the rest
        (0.90, 0.70, 6, True),  # six samples without a copy are no yardstick: presumed to leak
    ],
)
def test_exact_copies_leak_what_the_model_learned_from_them(
    copies: float, rest: float, clean: int, leaks: bool
):
    # Validation rows copied exactly into training: a copy for certain, but the estimate is
    # inflated only by what the model learned from it, which the rest of validation measures.
    run = next(r for r in SUITE if "data_leakage" in r.planted and r.history.probe)
    assert run.history.probe
    n_val = run.history.probe.n_val
    probe = probe_like(
        run.name,
        leakage__exact_duplicates=n_val - clean,
        leakage__near_duplicates=n_val - clean,
        leakage__leaked_fraction=(n_val - clean) / n_val,
        leakage__leaked_val_loss=copies,
        leakage__clean_val_loss=rest,
        leakage__p_value=0.5,
    )
    a = assess(History(**{**run.history.__dict__, "probe": probe}))
    assert a.symptoms["duplicates"].present is leaks
    assert (a.scores.get("data_leakage", 0.0) >= LEAK_CONFIRMED) is leaks
    # Copies that inflate nothing yet are still said, with what to do about them.
    summary = report(a, cause_model.load()).summary
    assert ("remove them before it learns them" in summary) is not leaks


def test_a_shifted_split_the_model_scores_alike_is_no_preprocessing_claim():
    # A validation set scaled unlike training: a classifier tells the splits apart (AUC 1.0)
    # and the validation curve did not stall, so the claim rests on the re-evaluation. Scored
    # 0.36 worse than training in eval mode, the shift costs validation; scored alike (a model
    # that ignores the shifted features, or never left its start), it leaves the loss as it was.
    run = next(r for r in SUITE if r.name == "preprocessing_mismatch-3")
    assert "val_stuck" not in present(assess(run.without_probe()).symptoms)
    shifted = assess(run.history)
    assert shifted.symptoms["shift_costs_validation"].present
    assert shifted.scores["preprocessing_mismatch"] >= 0.5
    train = 0.3863
    alike = probe_like(
        run.name,
        passes__val_eval__mean=train + 0.004,
        decomposition__eval_gap={"value": -0.004, "ci_low": -0.07, "ci_high": 0.06},
        shuffled_split__val_mean=train + 0.004,
        shuffled_split__z=0.1,
        shuffled_split__p_value=0.9,
    )
    a = assess(History(**{**run.history.__dict__, "probe": alike}))
    assert a.symptoms["split_shift"].present
    assert not a.symptoms["shift_costs_validation"].present
    assert a.scores.get("preprocessing_mismatch", 0.0) <= UNCLAIMED


def test_a_finite_tenfold_jump_is_overshooting_and_a_hundredfold_one_numerical_trouble():
    epochs = np.arange(1, 21)
    train = 0.3 + 1.2 * np.exp(-epochs / 4)
    val = train + 0.05

    def diagnosis(factor: float):
        jumped = train.copy()
        jumped[12] *= factor
        a = assess(history(jumped, val))
        return {s.id for s in a.symptoms.values() if s.present}, set(a.scores)

    present, possible = diagnosis(30.0)
    assert "loss_jump" in present and "nonfinite" not in present
    assert "numerical_instability" not in possible and "lr_too_high" in possible
    present, possible = diagnosis(300.0)
    assert "nonfinite" in present and "numerical_instability" in possible


def test_a_cross_entropy_below_what_its_accuracy_allows_is_not_that_loss():
    # A faulty MNIST script: the reported cross entropy falls to 0 while training accuracy
    # stays at chance (0.099). Nine samples in ten are misclassified, each costing at least
    # ln 2, so the loss reported is not the cross entropy of these predictions.
    epochs = np.arange(1, 11)
    train = np.array([0.0037] + [0.0] * 9)
    series = {
        "train_loss": Series.full(train),
        "train_accuracy": Series.full(np.full(10, 0.0987)),
    }
    config = {"loss": "cross_entropy", "num_classes": 10}
    run = History(epochs.astype(float), series, config=config, task="classification")
    result = diagnose(run)
    assert next(s for s in result.symptoms if s.id == "impossible_loss").present
    assert result.causes[0].id == "loss_computation_mismatch"
    assert result.causes[0].confidence >= 0.9
    # A classifier that fits: cross entropy 0.03 at accuracy 0.99 is possible.
    fitted = {
        "train_loss": Series.full(0.03 + np.exp(-epochs / 2)),
        "train_accuracy": Series.full(np.minimum(0.99, 0.5 + epochs / 10)),
    }
    fine = diagnose(History(epochs.astype(float), fitted, config=config, task="classification"))
    assert not next(s for s in fine.symptoms if s.id == "impossible_loss").present


def test_a_classifier_naming_no_loss_may_have_trained_on_a_squared_error():
    # A 10-class classifier posted without `loss`, trained on the mean squared error of its
    # one-hot targets: 0.012 at 85% accuracy is far below any cross entropy of those
    # predictions (0.10) and a possible squared error. The engine does not know which loss
    # it was: no impossible loss, no confirmed loss mismatch. A loss of 0 at chance accuracy
    # is below what any of them allows, named or not.
    epochs = np.arange(1, 21, dtype=float)
    rng = np.random.default_rng(1)
    accuracy = 0.85 - 0.6 * np.exp(-epochs / 3)
    train = 0.012 + 0.06 * np.exp(-epochs / 3) + rng.normal(0, 0.0005, 20)
    val = 0.014 + 0.06 * np.exp(-epochs / 3) + rng.normal(0, 0.0005, 20)
    series = {
        "train_loss": Series.full(train),
        "val_loss": Series.full(val),
        "train_accuracy": Series.full(accuracy),
        "val_accuracy": Series.full(accuracy - 0.01),
    }

    def judged(config: dict[str, object], s: dict[str, Series]) -> tuple[bool, float]:
        result = diagnose(History(epochs, s, config=config, task="classification"))
        impossible = next(s for s in result.symptoms if s.id == "impossible_loss").present
        mismatch = next(
            (c.confidence for c in result.causes if c.id == "loss_computation_mismatch"), 0.0
        )
        return impossible, mismatch

    impossible, mismatch = judged({"num_classes": 10}, series)
    assert not impossible and mismatch < 0.5
    assert judged({"num_classes": 10, "loss": "cross_entropy"}, series)[0]
    broken = {
        "train_loss": Series.full(np.zeros(20)),
        "train_accuracy": Series.full(np.full(20, 0.1)),
    }
    assert judged({"num_classes": 10}, broken)[0]


def test_noise_alone_is_not_a_learning_rate_that_overshoots():
    # A healthy curve with independent epoch noise: about two of three successive changes
    # reverse direction, as white noise does; no spikes, no upward drift.
    rng = np.random.default_rng(11)
    epochs = np.arange(1, 61)
    train = 0.5 + 1.5 * np.exp(-epochs / 6) + rng.normal(0, 0.03, 60)
    val = 0.55 + 1.4 * np.exp(-epochs / 6) + rng.normal(0, 0.03, 60)
    result = diagnose(history(train, val))
    assert "lr_too_high" not in ids(result)


def test_a_learning_rate_that_overshoots_is_found():
    epochs = np.arange(1, 41)
    zigzag = np.where(epochs % 2 == 0, 0.35, -0.35)
    train = 1.2 + 0.01 * epochs + zigzag
    val = 1.3 + 0.01 * epochs + zigzag * 0.8
    result = diagnose(history(train, val, {"learning_rate": 1.0}))
    assert next(s for s in result.symptoms if s.id == "unstable_training").present
    assert "lr_too_high" in ids(result)[:3]
    # validation was never below training: nothing "explains the first epochs"
    assert "explains the first epochs" not in result.summary


def test_a_rate_far_above_the_usual_one_accounts_for_a_loss_held_at_chance():
    # Adam at 0.1, a hundred times its usual rate: the loss falls from 3.2 to chance for ten
    # classes (ln 10) in two epochs and stays there, both curves. The steps killed the units
    # that would fit; the plateau is no evidence of a model too small to fit.
    rng = np.random.default_rng(4)
    chance = math.log(10)
    train = np.r_[3.2, chance + 0.14, chance + 0.07 * np.exp(-np.arange(18) / 4)]
    train = train * np.exp(rng.normal(0, 0.001, 20))
    val = chance + 0.004 * np.exp(rng.normal(0, 0.3, 20))
    config = {"optimizer": "adam", "learning_rate": 0.1, "num_classes": 10}
    run = assess(history(train, val, config))
    assert {"at_chance", "overshoots_at_a_far_higher_rate"} <= present(run.symptoms)
    assert run.scores["lr_too_high"] >= CONFIRMED
    assert run.scores.get("underfitting", 0.0) <= UNCLAIMED
    # At a usual rate the same plateau is a candidate for a model that cannot fit, not a claim:
    # a model of any size sits at chance on a task it cannot learn (the next tests); one counted
    # with a tenth of a parameter per training sample is too small to fit.
    usual = {**config, "learning_rate": 0.001}
    scores = assess(history(train, val, usual)).scores
    assert scores["underfitting"] == UNCLAIMED and max(scores.values()) < CLAIM
    small = {**usual, "parameters": 200, "train_size": 2000, "batch_size": 32}
    assert assess(history(train, val, small)).scores["underfitting"] >= 0.8


def test_symptoms_carry_effect_sizes_and_reach_the_json():
    result = diagnose(SUITE[0].history).to_dict()
    assert result["symptoms"]
    for symptom in result["symptoms"]:
        assert set(symptom) >= {"id", "present", "value", "unit", "detail", "explained_by"}
        assert symptom["value"] is None or math.isfinite(symptom["value"])
    json.dumps(result, allow_nan=False)


def test_copies_as_common_in_validation_as_within_training_leak_nothing():
    # A third of validation has a near copy in training, scored far better than the rest; but a
    # third of training samples also have one in the rest of training: the data is like that,
    # and an independent test set would hold as many. Copies well beyond that rate leak.
    run = next(r for r in SUITE if "data_leakage" in r.planted and r.history.probe)
    assert run.history.probe and run.history.probe.leakage
    n_val = run.history.probe.n_val

    def leak(copies: int, chance: float) -> tuple[bool, float]:
        probe = probe_like(
            run.name,
            leakage__exact_duplicates=0,
            leakage__near_duplicates=copies,
            leakage__leaked_fraction=copies / n_val,
            leakage__leaked_val_loss=0.004,
            leakage__clean_val_loss=0.1,
            leakage__chance_fraction=chance,
            leakage__chance_sample=n_val,
        )
        a = assess(History(**{**run.history.__dict__, "probe": probe}))
        return a.symptoms["duplicates"].present, a.scores.get("data_leakage", 0.0)

    natural, score = leak(n_val // 3, 1 / 3)
    assert not natural and score < LEAK_CONFIRMED
    planted, score = leak(n_val // 3 + n_val // 2, 1 / 3)
    assert planted and score >= LEAK_CONFIRMED


def test_a_gap_wider_than_a_lag_is_evidence_for_what_else_lowers_validation():
    e = np.arange(1, 31, dtype=float)
    train = 0.05 + 1.2 * np.exp(-(e - 0.5) / 3)
    beyond = assess(history(train, 0.7 * (0.05 + 1.2 * np.exp(-e / 3)))).symptoms
    within = assess(history(train, 0.052 + 1.2 * np.exp(-e / 3))).symptoms
    assert "val_below_beyond_lag" in BY_ID["measurement_lag"].partial_when
    raw = {"measurement_lag": 0.8, "data_leakage": 0.3, "easier_validation": 0.1}
    lifted = confidences(raw, beyond, 30, {})
    kept = confidences(raw, within, 30, {})
    # The lag is still at work; what else can lower validation gains, in the models' proportions.
    assert lifted["measurement_lag"] == kept["measurement_lag"] == 0.8
    assert kept["data_leakage"] == min(raw["data_leakage"], UNCLAIMED)  # no claim within the lag
    assert lifted["data_leakage"] > 0.5
    assert lifted["data_leakage"] / lifted["easier_validation"] == pytest.approx(3.0)


def test_a_gap_opening_between_curves_that_fell_together_is_no_preprocessing_claim():
    # A textbook overfit: validation falls with training, bottoms out at a third of the run and
    # rises while training goes on to 0.02. The gap is there early and widens, as a validation
    # set preprocessed differently makes it too, but validation improved as training did: the
    # mismatch stays a candidate. A validation curve that stalls while training learns is the
    # mismatch's own sign and lets the models' opinion stand.
    e = np.arange(1, 61, dtype=float)
    rng = np.random.default_rng(0)
    train = 0.02 + 2.28 * np.exp(-e / 10) + rng.normal(0, 0.003, 60)
    val = 0.30 + 2.0 * np.exp(-e / 10) + 0.6 * np.maximum(0, e / 60 - 0.3)
    overfit = assess(history(train, val + rng.normal(0, 0.008, 60)))
    assert max(overfit.scores, key=overfit.scores.__getitem__) == "overfitting"
    assert "val_stuck" not in present(overfit.symptoms)
    raw = {"overfitting": 0.9, "preprocessing_mismatch": 0.7}
    assert confidences(raw, overfit.symptoms, 60, {})["preprocessing_mismatch"] == UNCLAIMED
    stalled = assess(history(train, 2.0 + 0.3 * np.exp(-e / 10) + 0.004 * e)).symptoms
    assert "val_stuck" in present(stalled)
    assert confidences(raw, stalled, 60, {})["preprocessing_mismatch"] == 0.7


def test_batch_norm_is_claimed_only_where_it_raised_the_training_loss():
    # A binary classifier with batch norm declared, held near chance by a hard task: validation
    # sits level with training throughout, as it would without the layers. Batch statistics
    # that raise the reported training loss put validation below it; here they did nothing
    # the user sees, so batch norm stays a candidate. Beside declared dropout (which accounts
    # for validation below training as a problem's evidence), batch norm is a training-time
    # behaviour itself and keeps that evidence.
    e = np.arange(1, 31, dtype=float)
    rng = np.random.default_rng(3)
    config = {"batch_norm": True, "batch_size": 32, "num_classes": 2}
    flat = 0.69 - 0.02 * (1 - np.exp(-e / 8))
    level = assess(
        history(flat + rng.normal(0, 0.002, 30), flat + rng.normal(0, 0.002, 30), config)
    )
    assert not present(level.symptoms) & {"val_below_train", "val_below_train_early"}
    raw = {"batchnorm_mode": 0.9, "regularization_train_only": 0.9}
    assert confidences(raw, level.symptoms, 30, {})["batchnorm_mode"] == UNCLAIMED
    train = 0.3 + 0.5 * np.exp(-e / 6)
    below = assess(history(train, 0.8 * train, {**config, "dropout": 0.3}))
    assert "val_below_train" in present(below.symptoms)
    assert confidences(raw, below.symptoms, 30, {})["batchnorm_mode"] == 0.9


def test_a_training_plateau_the_config_explains_is_no_underfitting_claim():
    # Logged without validation: a training loss levelling off at 60% of chance (ln 10). With
    # augmentation declared, altered inputs hold a training loss on that floor (a model that
    # fits the clean data scores far lower in eval mode), and no model of augmentation exists
    # for a run without validation to claim it: the plateau it accounts for is no evidence of
    # underfitting of its own. Undeclared, the plateau is underfitting's to weigh; a model
    # stuck at chance is not what augmentation makes (where frozen layers are declared, which
    # hold a model of any size there: otherwise its size is no evidence at all).
    e = np.arange(1, 41, dtype=float)
    train = 1.4 + 0.9 * np.exp(-e / 5)

    def training_only(config, curve=train):
        h = History(e, {"train_loss": Series.full(curve)}, config=config, task="classification")
        return assess(h).symptoms

    raw = {"underfitting": 0.6, "lr_too_low": 0.3}
    augmented = training_only({"num_classes": 10, "augmentation": "random crops"})
    assert "high_plateau" in present(augmented)
    assert confidences(raw, augmented, 40, {})["underfitting"] == UNCLAIMED
    assert confidences(raw, training_only({"num_classes": 10}), 40, {})["underfitting"] == 0.6
    chance = np.full(40, math.log(10)) + 0.001 * np.exp(-e)
    frozen = {"num_classes": 10, "augmentation": "random crops", "frozen_layers": True}
    assert confidences(raw, training_only(frozen, chance), 40, {})["underfitting"] == 0.6


def test_a_plateau_at_ten_times_the_usual_rate_is_no_underfitting_claim():
    # A suite run whose too-small model holds its training loss on a high plateau with Adam at
    # its usual 1e-3: underfitting, claimed. Had the config said 2e-2, twenty times the usual
    # rate, steps that long hold a loss on a plateau of their own: the plateau says nothing of
    # the model's size, and underfitting stays a candidate.
    run = SUITE_BY_NAME["underfitting-19"]

    def underfitting(rate: float) -> float:
        config = {**run.history.config, "learning_rate": rate}
        return assess(history(*curves_of(run), config)).scores["underfitting"]

    assert underfitting(1e-3) >= 0.5
    assert 0 < underfitting(2e-2) <= UNCLAIMED


def test_validation_scored_better_on_labels_drawn_otherwise_is_an_easier_split_measured():
    # The same easier split with its inputs alike (no feature shifted, AUC 0.5): nothing
    # measures the split as easier. Had the splits' class counts differed at p = 1e-6, validation
    # is drawn from another distribution, on which the model scores better: an easier split,
    # measured, and confirmed. Not where the model also rejects as many training labels as
    # wrong ones make it (wrong labels drawn uniformly move the class counts too), nor at
    # p = 0.07. A trace of rejections under that is what the harder samples an easier split
    # keeps in training leave too: the split is measured, and noisy labels are no claim.
    run = SUITE_BY_NAME["easier_validation-15"]
    alike = {
        "split_shift__adversarial_auc": 0.5,
        "split_shift__features_shifted": 0,
        "label_noise__train_confident_wrong": 0.015,
    }

    def assessed(**changes: float) -> Assessment:
        probe = probe_like("easier_validation-15", **{**alike, **changes})
        return assess(history(*curves_of(run), run.history.config, probe=probe))

    def easier(**changes: float) -> tuple[bool, float]:
        a = assessed(**changes)
        measured = a.symptoms["easier_labels_measured"].present
        return measured, a.scores.get("easier_validation", 0.0)

    measured, confidence = easier()  # the stored p = 0.07
    assert not measured and confidence < CONFIRMED
    measured, confidence = easier(split_shift__label_p_value=1e-6)
    assert measured and confidence >= CONFIRMED
    shifted = {"split_shift__label_p_value": 1e-6}
    trace = assessed(**shifted, label_noise__train_confident_wrong=0.045)
    assert {"labels_rejected", "easier_labels_measured"} <= present(trace.symptoms)
    assert trace.scores["easier_validation"] >= CONFIRMED
    assert trace.scores.get("label_noise_train", 0.0) <= UNCLAIMED
    rejecting = easier(**shifted, label_noise__train_confident_wrong=0.09)
    assert not rejecting[0]
    # As many rejections, logged beside a training accuracy 39 points below validation's that
    # they fall far short of: the samples training kept are harder, and the split is measured.
    probe = probe_like(run.name, **{**alike, **shifted, "label_noise__train_confident_wrong": 0.09})
    train_accuracy = run.history.epoch_series["train_accuracy"].values
    apart = {**run.history.epoch_series, "train_accuracy": Series.full(train_accuracy - 0.3)}
    harder = assess(replace(run.history, epoch_series=apart, probe=probe))
    assert "noisy_labels" in present(harder.symptoms)
    assert "labels_rejected" not in present(harder.symptoms)
    assert harder.scores["easier_validation"] >= CONFIRMED


def test_validation_scored_better_and_told_apart_from_training_is_an_easier_split_measured():
    # A re-evaluation finds the training set scoring 0.445 in eval mode and validation 0.295,
    # and a classifier tells the splits' inputs apart (7 of 20 features shifted): validation is
    # drawn from an easier distribution, whatever a model fitted on other runs reads into the
    # curves (noisy training labels also make validation score better, but do not move inputs).
    run = next(r for r in SUITE if r.name == "easier_validation-15")
    train, val = curves_of(run)
    config = run.history.config

    def diagnosis(**changes: float | bool | None):
        probe = probe_like("easier_validation-15", **changes)
        result = diagnose(history(train, val, config, probe=probe))
        measured = next(s for s in result.symptoms if s.id == "easier_split_measured")
        confidence = {c.id: c.confidence for c in result.causes}.get("easier_validation", 0.0)
        return measured.present, confidence

    measured, confidence = diagnosis()
    assert measured and confidence >= 0.9

    # That accounts for validation scoring better: noisy training labels, whose signature
    # (labels the model rejects, 5 points more than validation's) this re-evaluation did not
    # find beyond a trace (3 points), are not claimed on it; without the trace they are ruled
    # out altogether.
    def label_noise(**changes: float | bool | None) -> float | None:
        probe = probe_like("easier_validation-15", **changes)
        symptoms = assess(history(train, val, config, probe=probe)).symptoms
        raw = {"easier_validation": 0.5, "label_noise_train": 0.8}
        found = confidences(raw, symptoms, 25, {"label_noise_train": 0.07})
        return found.get("label_noise_train")

    trace = {"label_noise__train_confident_wrong": 0.045}
    assert label_noise() is None
    assert label_noise(**trace) == 0.07
    indistinct_inputs = {"split_shift__adversarial_auc": 0.5, "split_shift__features_shifted": 0}
    assert label_noise(**trace, **indistinct_inputs) == 0.8
    # Labels the model rejects in training (20%, vs 1% of validation's) are its signature,
    # measured: that confirms it.
    assert label_noise(label_noise__train_confident_wrong=0.2) >= CONFIRMED
    # Splits a classifier cannot tell apart: only the eval-mode gap is left, which label noise
    # or leaked samples also make.
    indistinct = diagnosis(split_shift__adversarial_auc=0.5, split_shift__features_shifted=0)
    assert not indistinct[0]
    # Validation scoring worse in eval mode: shifted inputs are then a preprocessing mismatch.
    assert not diagnosis(
        decomposition__eval_gap__value=-0.15,
        decomposition__eval_gap__ci_low=-0.2,
        decomposition__eval_gap__ci_high=-0.1,
    )[0]


def test_a_heavy_tailed_validation_loss_above_training_is_measured_by_the_permutation_test():
    # The digits MLP with dropout: the training set scores 0.002 in eval mode, validation 0.074,
    # most of it from a few misclassified samples, so the normal interval of the difference
    # spans 0 (-0.15 to +0.01). Random splits of the pooled losses never put validation that
    # high (z 3.6, p 0.002): validation is above training, and the gap is generalization.
    epochs = np.arange(1, 31)
    train = 0.03 + 1.8 * np.exp(-epochs / 2)
    val = 0.074 + 0.9 * np.exp(-epochs / 2)

    def diagnosis(p_value: float):
        probe = generalization_probe(
            0.002,
            0.074,
            0.08,
            shuffled_split__z=3.6 if p_value < 0.05 else 0.5,
            shuffled_split__p_value=p_value,
        )
        return diagnose(history(train, val, {"dropout": 0.5}, probe=probe))

    measured = diagnosis(0.002)
    assert next(s for s in measured.symptoms if s.id == "eval_val_above").present
    assert "the gap is generalization" in measured.summary
    unclear = diagnosis(0.3)
    assert not next(s for s in unclear.symptoms if s.id == "eval_val_above").present


def test_dropout_that_changes_nothing_is_no_regularization():
    # A GRU built with Dropout modules and batch norm: in train mode the loss moves, but the
    # pass with dropout alone switched on scores exactly what eval mode does. Its batch
    # statistics moved the loss; its dropout (p=0) does nothing.
    run = SUITE_BY_NAME["second-augmentation_train_only-2"]
    train_eval = run.history.probe.passes.train_eval.mean

    def dropout(only: float) -> float:
        probe = probe_like(
            "second-augmentation_train_only-2", passes__train_dropout_only__mean=only
        )
        return assess(history(*curves_of(run), probe=probe)).features["pr_has_dropout"]

    assert dropout(train_eval) == 0.0
    assert dropout(train_eval + 0.05) == 1.0


@pytest.mark.parametrize(
    ("name", "effect", "low"),
    [
        # Feature masking adds 0.032 to a per-sample loss of 0.07 (46%), 95% CI 0.004 to 0.060.
        ("augmentation_train_only-14", "augmentation_effect", 0.004),
        # Declared feature masking: the reported training loss exceeds the eval-mode one by
        # 0.029 on a per-sample loss of 0.076 (38%), 95% CI 0.001 to 0.057.
        ("augmentation_train_only-2", "train_time_effect", 0.0013),
    ],
)
def test_a_training_time_effect_that_is_there_and_matters_counts_though_its_interval_is_wide(
    name: str, effect: str, low: float
):
    # The interval excludes 0 and the value is far beyond a tenth of the loss, though the
    # interval's low end is not: significance and size are each judged on their own. Had the
    # interval reached below 0, the effect is neither shown nor ruled out: unresolved, which
    # refutes nothing (an absence is measured only by an interval below what would matter).
    run = SUITE_BY_NAME[name]

    def found(ci_low: float) -> frozenset[str]:
        probe = probe_like(name, **{f"decomposition__{effect}__ci_low": ci_low})
        return present(assess(history(*curves_of(run), run.history.config, probe=probe)).symptoms)

    assert "train_time_effect" in found(low)
    unresolved = found(-0.001)
    assert "train_time_effect_unresolved" in unresolved and "train_time_effect" not in unresolved


def test_a_training_time_effect_neither_shown_nor_ruled_out_refutes_no_regularization():
    # A GRU regression with dropout 0.1 whose validation sits 0.006 below its reported training
    # loss; re-evaluated, dropout adds 0.0042 to the training set's loss, 95% CI -0.0025 to
    # 0.011: not significant, but the interval reaches past the whole gap. That measures no
    # absence, and regularization stays one of the causes the report weighs (dropout was at
    # work). An interval that ends below what would matter (half the gap, 0.003) measures it,
    # and refutes regularization.
    name = "second-healthy-13"
    run = SUITE_BY_NAME[name]

    def reevaluated(value: float, ci_high: float) -> tuple[frozenset[str], dict[str, float]]:
        probe = probe_like(
            name,
            decomposition__train_time_effect__value=value,
            decomposition__train_time_effect__ci_high=ci_high,
        )
        a = assess(history(*curves_of(run), run.history.config, probe=probe))
        return present(a.symptoms), dict(a.scores)

    found, scores = reevaluated(0.0042, 0.011)
    assert "train_time_effect_unresolved" in found
    assert "regularization_train_only" in scores
    found, scores = reevaluated(0.001, 0.0025)
    assert "train_time_effect_unresolved" not in found
    assert "regularization_train_only" not in scores


def test_an_epoch_mean_of_swinging_weights_is_no_loss_recomputed_differently():
    # Adam at 30x its usual rate: the training loss swings between 0.003 and 0.47 from epoch to
    # epoch, and the weights the last epoch ended with score 0.027 on the training set against
    # its reported mean of 0.114. That is what an epoch's mean of overshooting steps is, not a
    # loss computed differently. The same factor on a steadily falling curve is one.
    run = SUITE_BY_NAME["lr_too_high-12"]

    def mismatch(train: np.ndarray) -> bool:
        result = diagnose(
            history(train, curves_of(run)[1], run.history.config, probe=run.history.probe)
        )
        return next(s for s in result.symptoms if s.id == "loss_scale_mismatch").present

    swinging = curves_of(run)[0]
    assert not mismatch(swinging)
    steady = 0.1136 + 0.3 * np.exp(-np.arange(30) / 4)
    assert mismatch(steady)


def test_an_epoch_mean_before_a_last_epoch_jump_is_no_loss_recomputed_differently():
    # Validation falls smoothly for 24 epochs, then jumps by 80% in the last one: the weights
    # the run ended with are not those the last epoch's steps averaged over, so a checkpoint
    # scoring its training set at 2.2 times the epoch's mean says nothing of how the loss was
    # computed. The same recomputation after a steady last epoch is a mismatch.
    e = np.arange(1, 26, dtype=float)
    train = 0.3 + 0.7 * np.exp(-e / 6)
    steady = 0.35 + 0.7 * np.exp(-e / 6)
    jumped = steady.copy()
    jumped[-1] *= 1.8
    probe = recomputed_training(float(train[-1]), 2.2 * float(train[-1]))

    def mismatch(val: np.ndarray) -> bool:
        result = diagnose(history(train, val, {"loss": "mse"}, "regression", probe))
        return next(s for s in result.symptoms if s.id == "loss_scale_mismatch").present

    assert not mismatch(jumped)
    assert mismatch(steady)


def test_validation_level_with_training_within_the_lag_is_no_leak_claimed_from_curves_alone():
    # A model with no generalization gap (a large data set) ends with validation level with
    # an epoch-mean training loss that lags half an epoch: what leaked samples look like too.
    # However sure a fitted model is, the curves make leakage a candidate, not a claim; below
    # even the next epoch's training loss, or with copies found, it can be claimed.
    e = np.arange(1, 31, dtype=float)
    train = 0.05 + 1.5 * np.exp(-(e - 0.5) / 2)
    level = assess(history(train, 0.05 + 1.5 * np.exp(-e / 2))).symptoms
    beyond = assess(history(train, 0.7 * (0.05 + 1.5 * np.exp(-e / 2)))).symptoms
    assert "val_below_beyond_lag" not in {s.id for s in level.values() if s.present}
    raw = {"data_leakage": 0.9, "measurement_lag": 0.8}
    claimed = confidences(raw, level, 30, {})
    assert claimed["data_leakage"] < 0.5 and claimed["measurement_lag"] == 0.8
    assert confidences(raw, beyond, 30, {})["data_leakage"] >= 0.9


def test_a_loss_creeping_down_in_a_straight_line_is_unfinished_training():
    # A rate too low: both curves fall 0.004 an epoch for 30 epochs, 3% of the level in the
    # last quarter. A converging curve that falls as much at the end has bent to a third of its
    # pace and is left alone; the straight line keeps paying for more epochs.
    epochs = np.arange(1, 31)
    creep = 0.78 - 0.004 * epochs
    bent = 0.5 + 0.35 * np.exp(-epochs / 12)

    def still(val: np.ndarray) -> tuple[bool, bool]:
        result = diagnose(history(val + 0.02, val))
        symptom = next(s for s in result.symptoms if s.id == "still_improving")
        assert symptom.value is not None and 0.02 < symptom.value < 0.05
        return symptom.present, "not_converged" in ids(result)

    assert still(creep) == (True, True)
    assert still(bent) == (False, False)


def test_validation_that_keeps_rising_while_training_falls_is_overfitting_by_definition():
    # Validation bottoms out at epoch 12 and climbs 2% of its level an epoch from there while
    # training keeps falling: causes.md's definition of overfitting. Whatever a fitted model
    # reads (here it says 0.05), the checkpoint at the minimum generalizes better.
    epochs = np.arange(1, 41)
    train = 0.05 + 1.2 * np.exp(-epochs / 6)
    val = 0.45 + 0.9 * np.exp(-epochs / 5) + 0.02 * np.clip(epochs - 12, 0, None)
    val = val + np.random.default_rng(0).normal(0, 0.04, 40)

    def overfitting(config: dict[str, object]) -> tuple[bool, float]:
        symptoms = assess(history(train, val, config)).symptoms
        score = confidences({"overfitting": 0.05}, symptoms, 40, {"overfitting": 0.05})
        return symptoms["overfitting_signature"].present, score["overfitting"]

    assert overfitting({}) == (True, CONFIRMED)
    cause = next(c for c in diagnose(history(train, val)).causes if c.id == "overfitting")
    assert "overfitting_signature" in [e.check for e in cause.evidence]  # it shows its signature
    # At fifty times the usual rate for SGD the same jittering rise may be steps overshooting:
    # the rise stays a symptom overfitting can produce, and no longer confirms it.
    assert overfitting({"learning_rate": 0.5, "optimizer": "sgd"}) == (False, 0.05)


def test_a_signature_another_compatible_cause_produces_too_confirms_only_one_of_them():
    # The same rise while training falls, with validation above training from the first epoch:
    # a validation set preprocessed differently makes it too (the model grows more confident on
    # inputs unlike those it was fit to). The signature says one of the two is at work, not
    # which: they share the confirmation in the models' proportions. A re-evaluation that
    # compares the splits' inputs and finds them alike leaves overfitting alone, confirmed.
    epochs = np.arange(1, 41)
    train = 0.05 + 1.2 * np.exp(-epochs / 6)
    val = 0.8 + 0.6 * np.exp(-epochs / 5) + 0.02 * np.clip(epochs - 12, 0, None)
    val = val + np.random.default_rng(0).normal(0, 0.04, 40)
    symptoms = assess(history(train, val, {"val_size": 500})).symptoms
    assert symptoms["overfitting_signature"].present
    assert BY_ID["preprocessing_mismatch"].compatible(present(symptoms))
    raw = {"overfitting": 0.3, "preprocessing_mismatch": 0.1}
    shared = confidences(raw, symptoms, 40, {})
    assert shared["overfitting"] == pytest.approx(0.75 * CONFIRMED)
    assert shared["preprocessing_mismatch"] == pytest.approx(0.25 * CONFIRMED)
    assert shared["overfitting"] + shared["preprocessing_mismatch"] == pytest.approx(CONFIRMED)
    # Models already confident enough between them keep their own confidences.
    assert confidences({"overfitting": 0.6, "preprocessing_mismatch": 0.5}, symptoms, 40, {}) == {
        "overfitting": 0.6,
        "preprocessing_mismatch": 0.5,
    }
    alike = Symptom("split_shift", False, 0.51, "adversarial AUC", "the splits' inputs agree")
    reevaluated = dict(symptoms) | {"split_shift": alike}
    assert confidences(raw, reevaluated, 40, {}) == {"overfitting": CONFIRMED}


def test_validation_inputs_measured_unlike_trainings_account_for_the_rise():
    # The rise while training falls, and a re-evaluation that finds validation scoring worse in
    # eval mode on inputs a classifier tells apart from training's: the mismatch is measured,
    # and it makes the rise by itself (the best checkpoint gains nothing on inputs preprocessed
    # as training's). Overfitting keeps at most its base rate; with inputs alike it is confirmed.
    run = next(r for r in SUITE if r.name == "preprocessing_mismatch-1")
    train, val = curves_of(run)

    def scores(mismatch: float = 0.6, **changes: float | bool | None) -> dict[str, float]:
        probe = probe_like("preprocessing_mismatch-1", **changes)
        symptoms = assess(history(train, val, run.history.config, probe=probe)).symptoms
        raw = {"overfitting": 0.95, "preprocessing_mismatch": mismatch}
        return confidences(raw, symptoms, len(train), {"overfitting": 0.3})

    measured = scores()
    assert measured["preprocessing_mismatch"] >= CONFIRMED
    assert measured["overfitting"] == pytest.approx(0.3)
    # The rise confirms one of the two; the mismatch accounts for it, so overfitting takes no
    # share of that confirmation, however little the mismatch's model said.
    doubted = scores(mismatch=0.2)
    assert doubted["overfitting"] == pytest.approx(0.3)
    assert doubted["preprocessing_mismatch"] >= CONFIRMED
    alike = scores(split_shift__adversarial_auc=0.5, split_shift__features_shifted=0)
    assert alike["overfitting"] == 0.95 and "preprocessing_mismatch" not in alike


def test_a_model_that_memorized_early_in_a_long_run_shows_the_signature_on_its_plateau():
    # 300 epochs on 60 samples: validation bottoms out at epoch 3 (0.58), climbs over the next
    # thirty epochs to 0.95 while training loss falls to zero, and both sit flat for the 260
    # epochs left. A trend test over everything after the minimum reads the flat plateau (and
    # its last, tiny decline), not the climb; the rise held to the end while training lost
    # all it had at the minimum is memorization, and it confirms overfitting.
    epochs = np.arange(1, 301, dtype=float)
    train = 1.2 * np.exp(-epochs / 6)
    climb = 0.58 + 0.37 * (1 - np.exp(-np.clip(epochs - 3, 0, None) / 8))
    val = np.where(epochs < 3, 0.58 + 0.25 * (3 - epochs), climb) - 1e-6 * epochs
    val = val + np.random.default_rng(4).normal(0, 0.01, 300) * (epochs < 40)
    symptoms = assess(history(train, val, task="regression")).symptoms
    assert not symptoms["val_trends_up_while_training_falls"].present
    assert symptoms["val_rise_held_as_training_fell"].present
    assert symptoms["overfitting_signature"].present
    assert confidences({"overfitting": 0.3}, symptoms, 300, {})["overfitting"] == CONFIRMED
    # The same climb on a training loss that held level after the minimum is no memorization.
    held = np.full(300, 0.4)
    symptoms = assess(history(held, val, task="regression")).symptoms
    assert not symptoms["val_rise_held_as_training_fell"].present


def test_a_step_up_after_the_minimum_that_then_holds_is_no_overfitting_signature():
    # A learning-rate drop's bump: validation steps up 0.08 at epoch 21 and then holds, easing
    # down. A rise after the minimum, but no lasting upward trend: nothing keeps memorizing.
    epochs = np.arange(1, 41)
    train = 0.05 + 1.2 * np.exp(-epochs / 6)
    val = 0.45 + 0.9 * np.exp(-epochs / 5) + 0.08 * (epochs > 20)
    val = val - 0.0005 * np.clip(epochs - 20, 0, None)
    val = val + np.random.default_rng(3).normal(0, 0.005, 40)
    symptoms = assess(history(train, val)).symptoms
    assert symptoms["val_rises_after_min"].present
    assert not symptoms["overfitting_signature"].present
    assert confidences({"overfitting": 0.05}, symptoms, 40, {"overfitting": 0.05}) == {
        "overfitting": 0.05
    }


def test_declared_augmentation_accounts_for_a_training_loss_held_above_validation():
    # Training loss on a floor well above validation, beyond any lag: what noisy training
    # labels do, and what augmented inputs do. When the config declares augmentation and the
    # models claim it, that symptom has its producer, and noisy labels with no evidence of their
    # own (labels the model rejects, measured) stay a candidate; undeclared, they can be claimed.
    e = np.arange(1, 31, dtype=float)
    val = 0.3 + 0.8 * np.exp(-e / 4)
    train = val * 1.2 + 0.6
    raw = {"augmentation_train_only": 0.9, "label_noise_train": 0.7}

    def label_noise(config: dict[str, object]) -> float:
        symptoms = assess(history(train, val, config)).symptoms
        assert {"val_below_beyond_lag", "high_plateau"} <= {
            s.id for s in symptoms.values() if s.present
        }
        return confidences(raw, symptoms, 30, {})["label_noise_train"]

    assert label_noise({}) == 0.7
    assert label_noise({"augmentation": "random crops"}) == UNCLAIMED
    # Declared but not claimed (a model that reads the run otherwise): no account is taken.
    symptoms = assess(history(train, val, {"augmentation": True})).symptoms
    doubtful = {"augmentation_train_only": 0.3, "label_noise_train": 0.7}
    assert confidences(doubtful, symptoms, 30, {})["label_noise_train"] == 0.7


def test_a_jittering_validation_loss_is_a_small_set_only_when_the_set_is_known_small():
    # Validation jitters by 6% of its level epoch to epoch: what a set of 40 samples does, and
    # what a model's own swings do on MNIST's 10,000. Told nothing of the set (no val_size, no
    # accuracies on a lattice), a small set's noise stays a candidate however sure a model is.
    rng = np.random.default_rng(8)
    e = np.arange(1, 31, dtype=float)
    train = 0.2 + 1.2 * np.exp(-e / 4)
    val = 0.22 + 1.1 * np.exp(-e / 4) + rng.normal(0, 0.02, 30)
    raw = {"small_validation_noise": 0.9}

    def noise(config: dict[str, object]) -> float:
        symptoms = assess(history(train, val, config)).symptoms
        assert symptoms["noisy_validation"].present
        return confidences(raw, symptoms, 30, {})["small_validation_noise"]

    assert noise({}) == UNCLAIMED
    assert noise({"val_size": 10000}) == UNCLAIMED
    assert noise({"val_size": 40}) >= 0.9


def test_a_learning_rate_too_low_is_claimed_only_where_the_loss_still_falls():
    # A plateau ten times the rate would have lowered looks like any converged run: however sure
    # a model is, it stays a candidate. A training loss still creeping down in a straight line
    # shows the small steps where the config states no rate (at the usual one the pace may be
    # the task's: a candidate); at a rate ten times below the usual one that is the cause itself.
    e = np.arange(1, 31, dtype=float)
    plateau = 1.0 + 0.4 * np.exp(-e / 3)
    creep = 2.31 - 0.0055 * e  # 2.31 to 2.15: under 2% of the start per quarter
    sure, doubtful = {"lr_too_low": 0.9}, {"lr_too_low": 0.1}

    def lr_too_low(train, raw, config):
        symptoms = assess(history(train, train + 0.02, config)).symptoms
        return confidences(raw, symptoms, 30, {})["lr_too_low"], present(symptoms)

    usual = {"optimizer": "sgd", "learning_rate": 1e-2}
    slow = {"optimizer": "sgd", "learning_rate": 3e-4}
    assert lr_too_low(plateau, sure, usual)[0] == UNCLAIMED
    assert lr_too_low(plateau, sure, slow)[0] == UNCLAIMED
    confidence, found = lr_too_low(creep, sure, {})
    assert confidence == 0.9 and "train_creeps" in found and "creeps_at_a_low_rate" not in found
    assert lr_too_low(creep, doubtful, {})[0] == 0.1
    assert lr_too_low(creep, sure, usual)[0] == UNCLAIMED
    confidence, found = lr_too_low(creep, doubtful, slow)
    assert confidence >= 0.9 and "creeps_at_a_low_rate" in found
    # Seven epochs, both curves still falling steeply when the run ended: too short to show a
    # pace, but ten times the rate would have got further in the same epochs.
    unfinished = 2.3 * np.exp(-np.arange(1, 8) / 10)
    symptoms = assess(history(unfinished, unfinished + 0.02, usual)).symptoms
    assert "still_improving" in present(symptoms) and "train_creeps" not in present(symptoms)
    assert confidences(sure, symptoms, 7, {})["lr_too_low"] > UNCLAIMED
    # Training flat at the mean's loss for most of the run, then down by three quarters in the
    # last quarter at the usual rate, validation settled: a breakthrough after a plateau, not
    # small steps (which slow every part of the curve alike), so no creep lets the models claim
    # the rate. The same fall kept up in a straight line is one.
    e = np.arange(1, 25, dtype=float)
    breakthrough = np.where(e <= 18, 1.0 - 0.004 * e, 0.93 - 0.12 * (e - 18))
    settled = 0.9 + 0.01 * np.cos(e)

    def claimed(train):
        symptoms = assess(history(train, settled, usual)).symptoms
        return confidences(sure, symptoms, 24, {})["lr_too_low"], present(symptoms)

    confidence, found = claimed(breakthrough)
    assert "train_still_improving" in found and "train_creeps" not in found
    assert confidence == UNCLAIMED
    # The same fall kept up in a straight line creeps; at the usual rate, beside a validation
    # loss that has settled, the pace may be the task's, so the rate stays a candidate, and
    # where the config states no rate or a low one the creep lets the models claim it.
    confidence, found = claimed(1.0 - 0.025 * e)
    assert "train_creeps" in found and confidence == UNCLAIMED
    symptoms = assess(history(1.0 - 0.025 * e, settled, {})).symptoms
    assert "creeps_not_at_a_usual_rate" in present(symptoms)
    assert confidences(sure, symptoms, 24, {})["lr_too_low"] == 0.9


def test_a_loss_falling_back_after_a_warm_restart_is_not_creeping():
    # Cosine annealing with warm restarts every ten epochs: each cycle falls and ends lower, and
    # each restart throws the training loss back up. Stopped three epochs after a restart, its
    # last quarter falls at the pace the run kept, but only back toward where the previous cycle
    # ended: steps that climbed that much were not too small, so a model sure of a rate too low
    # is held to a candidate beside a validation loss that has settled, even where the config
    # states no rate (there a creep would claim it). Continuing still pays (the rerun that
    # continues a run counts a recovery), so training is still improving. The same fall kept up
    # in a straight line creeps.
    e = np.arange(1, 28, dtype=float)
    sawtooth = 0.9 * np.exp(-e / 60) * (1 + 0.5 * (1 - ((e - 1) % 10) / 9))
    straight = sawtooth[0] + (sawtooth[-1] - sawtooth[0]) * (e - 1) / 26
    settled = 0.8 + 0.002 * np.cos(e)

    def read(train: np.ndarray) -> tuple[float, frozenset[str]]:
        symptoms = assess(history(train, settled, {})).symptoms
        return confidences({"lr_too_low": 0.9}, symptoms, len(train), {})["lr_too_low"], present(
            symptoms
        )

    confidence, found = read(sawtooth)
    assert "train_still_improving" in found and "train_creeps" not in found
    assert confidence == UNCLAIMED
    confidence, found = read(straight)
    assert "train_creeps" in found and confidence == 0.9


def test_a_model_left_at_chance_by_a_usual_rate_is_a_candidate_for_underfitting():
    # Four classes, both losses settle at ln 4 from above: the model learned nothing. At Adam's
    # usual rate the steps could move a model that can learn: one too small to fit is a leading
    # candidate (beside a rate too low, as likely), not a claim, since a task it cannot learn
    # from its data holds it there too
    # (the model's size settles it: the next test). A rate ten thousand times lower, or batch
    # norm the config declares, explains it as well, and SGD's steps, whose length the history
    # does not tell, may not have moved it.
    e = np.arange(1, 26, dtype=float)
    train = math.log(4) + 0.18 * np.exp(-e / 6)
    val = math.log(4) + 0.1 * np.exp(-e / 6) - 0.006

    def diagnosed(config):
        result = diagnose(history(train, val, {"num_classes": 4, **config}))
        found = {s.id for s in result.symptoms if s.present}
        return found, {c.id: c.confidence for c in result.causes}

    found, causes = diagnosed({"optimizer": "adam", "learning_rate": 3e-3})
    assert "at_chance_at_a_usual_rate" in found
    assert "underfitting" in sorted(causes, key=causes.__getitem__, reverse=True)[:2]
    assert UNCLAIMED / 2 < causes["underfitting"] < 0.5
    for other in (
        {"optimizer": "adam", "learning_rate": 1e-7},
        {"optimizer": "adam", "learning_rate": 3e-3, "batch_norm": True},
        # SGD moves each weight by the rate times its gradient: at its usual rate, whether
        # the steps moved the model is unknown (9 such throwaway runs, none underfit)
        {"optimizer": "sgd", "learning_rate": 0.01},
        # 62 steps that could move each weight by 0.9: after so few, more steps at any rate
        # may be all it lacked (a throwaway run at 69 such steps was helped by no wider model)
        {"optimizer": "adam", "learning_rate": 1.5e-2, "train_size": 160, "batch_size": 64},
        {},
    ):
        found, causes = diagnosed(other)
        assert "at_chance" in found and "at_chance_at_a_usual_rate" not in found, other
        assert causes.get("underfitting", 0.0) < 0.5, other


def test_a_model_counted_with_room_to_fit_is_not_underfit_by_its_size():
    # The run above, at chance at Adam's usual rate. A model with four parameters per training
    # sample could fit them, labels and all: what held it there is not its size (a throwaway
    # residual net of 10,852 parameters on 500 images read "underfitting, 62%", and a model four
    # times as wide did no better). One counted at a fiftieth of a parameter per sample is too
    # small to fit: confirmed. The count comes from the config (`parameters`, `train_size`) or
    # from a re-evaluation; declared frozen layers or a heavy weight decay restrain a large
    # model as well, and then its size is not judged.
    e = np.arange(1, 26, dtype=float)
    train = math.log(4) + 0.18 * np.exp(-e / 6)
    val = math.log(4) + 0.1 * np.exp(-e / 6) - 0.006
    recipe = {"num_classes": 4, "optimizer": "adam", "learning_rate": 3e-3, "batch_size": 32}

    def diagnosed(config, probe=None):
        a = assess(history(train, val, {**recipe, **config}, probe=probe))
        return a.symptoms, dict(a.scores)

    symptoms, scores = diagnosed({"parameters": 3600, "train_size": 900})
    assert not symptoms["capacity_short"].present and symptoms["capacity_short"].value == 4.0
    assert "underfitting" not in scores
    symptoms, scores = diagnosed({"parameters": 20, "train_size": 900})
    assert "at_chance_with_few_parameters" in present(symptoms) and scores["underfitting"] >= 0.8
    symptoms, _ = diagnosed({"parameters": True, "train_size": 900})  # a flag, not a count
    assert "capacity_short" not in symptoms
    for restrained in ({"frozen_layers": True}, {"weight_decay": 0.5}):
        symptoms, scores = diagnosed({"parameters": 3600, "train_size": 900, **restrained})
        assert "capacity_short" not in symptoms and "underfitting" in scores, restrained
    # Counted by a re-evaluation of the 1,600 training samples it was sent, with nothing in the
    # config. Where it read a sample of a larger set (its limits), a model with room for the
    # sample may have none for the whole: only a model short of parameters for it is judged.
    roomy = probe_like("underfitting-1", model__parameters=6400)
    symptoms, scores = diagnosed({}, roomy)
    assert not symptoms["capacity_short"].present and "underfitting" not in scores
    symptoms, scores = diagnosed({}, roomy.model_copy(update={"subsampled": True}))
    assert "capacity_short" not in symptoms and "underfitting" in scores
    tiny = probe_like("underfitting-1", model__parameters=40, subsampled=True)
    symptoms, scores = diagnosed({}, tiny)
    assert symptoms["capacity_short"].present and scores["underfitting"] >= 0.8


def test_a_model_that_never_left_chance_is_no_evidence_of_its_size():
    # A binary classifier at ln 2 and an accuracy of a half for 30 epochs: it learned nothing.
    # A model too small fits part of a task it can learn; one that fits none of it lacks a
    # learnable signal, steps or a start as often as room (a GRU and an LSTM on palindromes:
    # "underfitting, 78%" and "58%" where a model four times as wide learned nothing either; 2
    # of the 44 such runs of both suites and three throwaway batches were underfit; this run
    # read 0.74-0.88 with each config below). Unless the config declares
    # what holds any model at chance (a heavy weight decay, frozen layers), or a count of the
    # parameters shows it short of them, underfitting stays a candidate, with num_classes or
    # without it (then chance is read off the curves).
    rng = np.random.default_rng(3)
    e = np.arange(1, 31, dtype=float)
    train = math.log(2) + rng.normal(0, 0.001, 30) - 0.001
    val = math.log(2) + rng.normal(0, 0.002, 30) + 0.004
    series = {
        "train_loss": Series.full(train),
        "val_loss": Series.full(val),
        "train_accuracy": Series.full(0.5 + rng.normal(0, 0.01, 30)),
        "val_accuracy": Series.full(np.full(30, 0.475)),
    }

    def underfitting(config):
        a = assess(History(e, series, config=config, task="classification"))
        return a.scores.get("underfitting", 0.0), present(a.symptoms)

    for config in (
        {"optimizer": "adam", "learning_rate": 3e-3, "batch_size": 32, "num_classes": 2},
        {"optimizer": "sgd", "learning_rate": 0.05, "batch_size": 32},
        {"optimizer": "rmsprop", "learning_rate": 1e-3, "batch_size": 64},
        {},
    ):
        confidence, found = underfitting(config)
        assert "at_chance_of_any_size" in found and confidence <= UNCLAIMED, config
    restrained = {"optimizer": "adam", "learning_rate": 3e-3, "batch_size": 32, "num_classes": 2}
    confidence, found = underfitting({**restrained, "weight_decay": 0.5})
    assert "capacity_restrained" in found and "at_chance_of_any_size" not in found
    assert confidence >= CLAIM


def test_a_model_that_learned_nothing_is_no_evidence_of_its_dropout():
    # A regression whose training loss went 3% down over 22 epochs beside a validation loss 7%
    # below it that moved as little: the model learned nothing (a GRU that never left the mean
    # of its targets read "regularization, 75%"; the re-evaluation measured its dropout adding
    # nothing). Dropout perturbs what a model fit, so it stays a candidate there. Validation
    # falling while training held is what such behaviour does (not the symptom), and a model that
    # fit keeps its dropout in play.
    rng = np.random.default_rng(7)
    e = np.arange(1, 23, dtype=float)
    config = {
        "optimizer": "sgd",
        "learning_rate": 0.03,
        "batch_size": 128,
        "loss": "mse",
        "train_size": 900,
        "val_size": 300,
        "epochs": 22,
        "dropout": 0.1,
    }
    train = 1.06 - 0.035 * (1 - np.exp(-e / 4)) + rng.normal(0, 0.005, 22)
    val = 0.985 - 0.025 * (1 - np.exp(-e / 2)) + rng.normal(0, 0.002, 22)
    stuck = assess(history(train, val, config, task="regression"))
    assert {"train_stuck", "neither_curve_moved"} <= present(stuck.symptoms)
    assert stuck.scores["regularization_train_only"] <= UNCLAIMED
    falls = assess(history(train, 0.98 - 0.3 * (1 - np.exp(-e / 5)), config, task="regression"))
    assert "train_stuck" in present(falls.symptoms)
    assert "neither_curve_moved" not in present(falls.symptoms)
    fit_train = 0.35 + 0.7 * np.exp(-e / 5) + rng.normal(0, 0.005, 22)
    fit_val = fit_train - 0.07 * (1 - np.exp(-e / 3)) - 0.02
    fits = assess(history(fit_train, fit_val, config, task="regression"))
    assert "neither_curve_moved" not in present(fits.symptoms)
    assert fits.scores["regularization_train_only"] > UNCLAIMED


def test_a_regression_that_never_left_its_start_is_no_evidence_of_its_size():
    # A GRU regression whose losses moved 2% in 8 epochs of SGD at its usual rate: it learned
    # nothing, as a classifier held at chance has (`at_chance_of_any_size`), and read
    # "underfitting, 72%" (53-56% with less config) where a model four times as wide learned
    # nothing either. Underfitting stays a candidate unless the config declares what holds a
    # model of any size (a weight decay of 0.5 claims it).
    train = np.array([1.006, 0.9954, 0.998, 0.9867, 0.9922, 0.9855, 0.9825, 0.9936])
    val = np.array([0.9879, 0.9915, 1.05, 1.079, 1.05, 1.022, 1.044, 1.022])
    config = {
        "optimizer": "sgd",
        "learning_rate": 0.02,
        "batch_size": 8,
        "loss": "mse",
        "train_size": 900,
        "val_size": 300,
        "epochs": 8,
    }
    for given in (config, {k: config[k] for k in ("optimizer", "learning_rate")}, {}):
        a = assess(history(train, val, given, task="regression"))
        assert "unmoved_of_any_size" in present(a.symptoms), given
        assert a.scores["underfitting"] <= UNCLAIMED, given
    restrained = assess(history(train, val, {**config, "weight_decay": 0.5}, task="regression"))
    assert "unmoved_of_any_size" not in present(restrained.symptoms)
    assert restrained.scores["underfitting"] >= CLAIM


def test_a_model_that_fitted_nothing_is_not_overfitting():
    # Validation drifts from 1.10 up to 1.17 after its first epoch, steadily, while training
    # rises and comes back to where it began: the model fitted nothing of its training set, so
    # nothing past what generalizes either (a batch-norm net at chance read "overfitting, 90%"
    # on such curves). A training loss falling to 0.2 beside a validation loss that bottoms
    # out and climbs back is overfitting.
    e = np.arange(30, dtype=float)
    val = 1.098 + 0.077 * (1 - np.exp(-e / 8))
    stuck = 1.11 + 0.05 * np.sin(np.pi * e / 29)
    config = {"optimizer": "adamw", "learning_rate": 1e-3}
    flat = assess(history(stuck, val, config))
    assert {"train_stuck", "val_rises_after_min"} <= present(flat.symptoms)
    assert "overfitting" not in flat.scores
    fitting = 0.2 + 0.9 * np.exp(-e / 6)
    dips = 0.75 + 0.35 * np.exp(-e / 3) + 0.008 * e
    assert assess(history(fitting, dips, config)).scores["overfitting"] >= 0.5


def test_training_targets_the_model_grossly_misses_confirm_label_noise():
    # A regression whose validation loss sits 8x below training's for the whole run: an easier
    # validation set, leaked samples or wrong training targets could each do it. The checkpoint
    # misses 10% of training targets by more than 3 robust scales and no validation target:
    # a minority of training targets the model cannot agree with is what wrong labels are.
    e = np.arange(1, 31, dtype=float)
    train = 1.9 + 1.5 * np.exp(-e / 4)
    val = 0.23 + 1.5 * np.exp(-e / 4)
    config = {"loss": "mse"}

    def label_noise(train_share: float, val_share: float) -> tuple[float, str]:
        probe = probe_like(
            "second-label_noise_train-2",
            label_noise__train_confident_wrong=train_share,
            label_noise__val_confident_wrong=val_share,
        )
        result = diagnose(history(train, val, config, task="regression", probe=probe))
        confidence = {c.id: c.confidence for c in result.causes}.get("label_noise_train", 0.0)
        return confidence, ids(result)[0]

    measured, first = label_noise(0.1, 0.0)
    assert measured >= CONFIRMED and first == "label_noise_train"
    # As many gross misses in both splits: the targets are no worse in training.
    alike, _ = label_noise(0.003, 0.003)
    assert alike < CONFIRMED


def test_validation_that_never_beats_an_untrained_model_is_a_mismatch_not_an_overfit():
    # Training learns (1.2 -> 0.05) while validation is lowest at its first evaluation, right
    # after the first epoch, and only rises. During that epoch every training batch was new to
    # the model, so its mean training loss (1.2) is what the model scored on unseen data of
    # training's distribution; a validation set of that distribution scores lower at the end of
    # the epoch. Here it scores 1.3 and worse after: nothing learned carries over, and there is
    # no best checkpoint to stop at. The same rise after a first evaluation below the first
    # epoch's training loss (the model had learned what generalizes) is an overfit. Validation
    # rises twice what training falls: inputs scored wrong with growing confidence, all of them.
    e = np.arange(1, 26, dtype=float)
    train = 0.05 + 1.15 * np.exp(-(e - 1) / 4)
    rise = 2.5 * (1 - np.exp(-(e - 1) / 6))
    for config in ({"loss": "mse"}, {"loss": "cross_entropy"}):
        shifted = assess(history(train, 1.3 + rise, config))
        assert {"val_never_improves", "val_rise_outpaces_training"} <= present(shifted.symptoms)
        assert max(shifted.scores, key=shifted.scores.__getitem__) == "preprocessing_mismatch"
        assert shifted.scores["preprocessing_mismatch"] >= CONFIRMED
        assert "overfitting" not in shifted.scores
        overfit = assess(history(train, 0.9 + rise, config))
        assert "val_never_improves" not in present(overfit.symptoms)
        assert "overfitting" in ids(diagnose(history(train, 0.9 + rise, config)))
    # A classifier at 0.8 against chance at ln 4 = 1.39 had learned, whatever training did.
    learned = assess(history(train, 1.3 + rise, {"loss": "cross_entropy", "num_classes": 2}))
    assert "val_never_improves" in present(learned.symptoms)
    learned = assess(history(train, 1.3 + rise, {"loss": "cross_entropy", "num_classes": 10}))
    assert "val_never_improves" not in present(learned.symptoms)


def test_validation_whose_best_is_an_untrained_models_drift_never_improved():
    # A six-class table: validation at chance (ln 6 = 1.79) on its first evaluation drifts 0.5%
    # lower over fifteen epochs, as an untrained model's loss does, then climbs to 3.2 while
    # training learns slowly (1.81 -> 0.96), validation rising 1.6 times training's fall. Its
    # minimum is not its first evaluation, but it never scored better than chance: nothing
    # learned carries over, and the mismatch is confirmed as where the minimum was the first.
    e = np.arange(1, 145, dtype=float)
    train = 0.96 + 0.85 * np.exp(-np.maximum(e - 20, 0) / 30)
    drift = 1.812 - 0.009 * np.minimum(e, 16) / 16
    val = drift + 1.4 * (1 - np.exp(-np.maximum(e - 16, 0) / 40))
    config = {"loss": "cross_entropy", "num_classes": 6}
    shifted = assess(history(train, val, config))
    assert int(np.argmin(val)) > 0
    assert {"val_never_improves", "fit_then_never_improved"} <= present(shifted.symptoms)
    assert shifted.scores["preprocessing_mismatch"] >= CONFIRMED
    # Validation that had left chance by a tenth before rising learned what generalizes.
    learned = assess(history(train, val - 0.25 * np.exp(-((e - 16) ** 2) / 20), config))
    assert "val_never_improves" not in present(learned.symptoms)
    # So did one whose accuracy climbed from 0.10 to 0.28 while its loss rose (confident
    # mistakes): what the model learned carried over; inputs unlike training's keep less.
    run = history(train, val, config)
    for gained, carried in ((0.18, True), (0.04, False)):
        accuracy = 0.10 + gained * (1 - np.exp(-e / 20))
        series = {**run.epoch_series, "val_accuracy": Series.full(accuracy)}
        found = present(assess(replace(run, epoch_series=series)).symptoms)
        assert ("val_never_improves" not in found) == carried


def test_validation_that_never_improves_beside_a_training_loss_still_high_may_be_memorization():
    # A two-class task the model cannot find a signal in: training creeps from chance (0.69)
    # to 0.49 as it memorizes, and validation, at chance on its first evaluation, only rises
    # (0.70 -> 0.92). Nothing learned carries over, as with a validation set preprocessed
    # differently, but a model that found a signal would have fit its training set far below
    # chance: overfitting is as likely, and neither is confirmed alone.
    e = np.arange(1, 41, dtype=float)
    train = 0.693 - 0.2 * (1 - np.exp(-(e - 1) / 25))
    val = 0.70 + 0.22 * (1 - np.exp(-(e - 1) / 20))
    config = {"loss": "cross_entropy", "num_classes": 2}
    memorized = assess(history(train, val, config))
    assert {"val_never_improves", "high_plateau"} <= present(memorized.symptoms)
    assert "overfitting" in memorized.scores
    assert memorized.scores.get("preprocessing_mismatch", 0.0) < CONFIRMED
    # The same validation beside a training loss fit far below chance, validation rising a
    # third of what training fell: fitting far is no sign of a signal found, since a network
    # memorizes samples it can find no signal in down to zero loss (a residual net on 200
    # images of corners it never told apart, validation at chance throughout and rising 1.2
    # times training's fall, read "inputs preprocessed differently, 90%"; its untrained start
    # scored held-back data better).
    fit = assess(history(0.05 + (train - 0.49) * 3, val, config))
    assert "high_plateau" not in present(fit.symptoms)
    assert "overfitting" in fit.scores
    assert fit.scores.get("preprocessing_mismatch", 0.0) < CONFIRMED
    # Training on the same plateau while validation climbs four times what training gained
    # (0.70 -> 1.50): memorizing costs validation about what it gains training; inputs scored
    # wrong with growing confidence, all of them, cost it more.
    shifted = assess(history(train, 0.70 + 0.80 * (1 - np.exp(-(e - 1) / 20)), config))
    assert {"high_plateau", "val_rise_outpaces_training"} <= present(shifted.symptoms)
    assert "overfitting" not in shifted.scores
    assert shifted.scores["preprocessing_mismatch"] >= CONFIRMED


def test_a_first_evaluation_barely_below_the_untrained_reference_learned_nothing():
    # A GRU whose validation inputs are scaled unlike training's: its first evaluation (0.94)
    # sits a few percent under the first epoch's mean training loss (0.98), then validation
    # jumps fivefold while training falls to 0.08. A few percent is the spread of an untrained
    # model's losses, not learning that generalizes; 20% under it is.
    e = np.arange(1, 26, dtype=float)
    train = 0.08 + 0.9 * np.exp(-(e - 1) / 2)
    rise = 3.6 * (1 - np.exp(-(e - 1) / 1.5))
    config = {"loss": "mse"}
    barely = assess(history(train, 0.94 + rise, config))
    assert "val_never_improves" in present(barely.symptoms)
    assert "overfitting" not in barely.scores
    assert max(barely.scores, key=barely.scores.__getitem__) == "preprocessing_mismatch"
    learned = assess(history(train, 0.78 + rise, config))
    assert "val_never_improves" not in present(learned.symptoms)
    assert "overfitting" in learned.scores


def test_a_first_evaluation_after_epochs_of_fine_tuning_is_no_untrained_reference():
    # Evaluated first at epoch 2.4 (a trainer evaluating every 1000 steps), the training loss
    # logged there averages epochs that repeat batches: it no longer measures unseen data, and
    # a fine-tuned model overfitting from its first evaluation is what it shows.
    epochs = np.array([2.44, 4.89, 7.33, 9.78, 12.22])
    series = {
        "train_loss": Series.full(np.array([0.2575, 0.0481, 0.009, 0.0013, 0.0003])),
        "val_loss": Series.full(np.array([0.3075, 0.3558, 0.4214, 0.4519, 0.4679])),
    }
    run = assess(History(epochs, series))
    assert "val_never_improves" not in present(run.symptoms)
    assert max(run.scores, key=run.scores.__getitem__) == "overfitting"


def test_a_run_sent_without_a_config_keeps_dropout_and_augmentation_open():
    # The question users ask most: validation 35% below training all run (0.22 vs 0.36), sent
    # as a Keras CSV arrives, with no config. Dropout and augmentation make exactly this and
    # nothing says they were absent, so they are weighed, no problem is claimed on a key
    # nobody sent, and the summary says which keys settle it. A config that names the
    # optimizer and rate but no dropout describes its recipe: dropout is weighed as less likely
    # than not, less than with no config and more than where the config declares it 0, and the
    # summary says so. Declared dropout is claimed.
    e = np.arange(1, 31, dtype=float)
    rng = np.random.default_rng(3)
    train = 0.35 + 1.8 * np.exp(-e / 5) + rng.normal(0, 0.004, 30)
    val = 0.22 + 1.5 * np.exp(-e / 5) + rng.normal(0, 0.005, 30)
    unknown = diagnose(history(train, val))
    listed = ids(unknown)
    assert {"regularization_train_only", "augmentation_train_only"} <= set(listed[:3])
    assert all(c.confidence < 0.5 for c in unknown.causes if c.kind == "problem")
    assert "`dropout`" in unknown.summary and "`augmentation`" in unknown.summary
    for facts in ({"num_classes": 4, "loss": "cross_entropy"}, {"epochs": 30}):  # of the data
        assert ids(diagnose(history(train, val, facts)))[:2] == listed[:2]
    recipe = {"optimizer": "adam", "learning_rate": 1e-3}
    described = diagnose(history(train, val, recipe))
    absent = diagnose(history(train, val, {**recipe, "dropout": 0}))
    assert listed_confidence(absent, "regularization_train_only") == 0.0
    assert (
        0.0
        < listed_confidence(described, "regularization_train_only")
        < (listed_confidence(unknown, "regularization_train_only"))
    )
    assert all(c.confidence < 0.5 for c in described.causes if c.kind == "problem")
    assert "weighed as less likely than not" in described.summary
    dropout = diagnose(history(train, val, {"optimizer": "adam", "dropout": 0.5}))
    assert ids(dropout)[0] == "regularization_train_only"
    assert dropout.causes[0].confidence >= 0.5


def test_a_recipe_named_without_augmentation_does_not_read_it_off_the_curves():
    # Validation at 70% of training all run, the config naming the optimizer, rate and batch
    # and no training-time behaviour: the run is weighed as each recipe it may have had, and in
    # the one without augmentation (the config as sent) augmentation is not at work however the
    # curves look. Read off the curves there as well, it was claimed at 61% while the summary
    # said such behaviour was weighed as less likely than not. Declared, it is claimed.
    e = np.arange(1, 41, dtype=float)
    rng = np.random.default_rng(0)
    train = 0.2 + 0.9 * np.exp(-e / 8) + rng.normal(0, 0.004, 40)
    val = 0.7 * train + rng.normal(0, 0.004, 40)
    recipe = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 32}
    described = diagnose(history(train, val, recipe))
    for behaviour in ("augmentation_train_only", "regularization_train_only"):
        assert 0.0 < listed_confidence(described, behaviour) < 0.5
    assert "weighed as less likely than not" in described.summary
    declared = diagnose(history(train, val, {**recipe, "augmentation": True}))
    assert ids(declared)[0] == "augmentation_train_only"
    assert declared.causes[0].confidence >= 0.5


def test_of_two_causes_confirmed_alike_the_problem_is_listed_first():
    # Early stopping with patience 2 fired on a bump in a 60-sample validation set while both
    # curves still fell: the set's noise and stopping too soon are each confirmed by their own
    # symptom, at the same confidence. The problem is what the user must act on: first.
    e = np.arange(1, 13, dtype=float)
    train = 0.3 + 1.0 * np.exp(-e / 5)
    val = 0.25 + 1.0 * np.exp(-e / 5) + np.where(e >= 11, 0.04, 0.0)
    config = {"early_stopping_patience": 2, "val_size": 60, "train_size": 2000, "epochs": 50}
    a = assess(history(train, val, config))
    tied = replace(
        a, scores={"small_validation_noise": CONFIRMED, "premature_early_stopping": CONFIRMED}
    )
    assert [c.id for c in report(tied, cause_model.load()).causes] == [
        "premature_early_stopping",
        "small_validation_noise",
    ]
    # Likelier still comes first, whatever its kind.
    ahead = replace(
        a, scores={"small_validation_noise": CONFIRMED, "premature_early_stopping": 0.6}
    )
    assert report(ahead, cause_model.load()).causes[0].id == "small_validation_noise"


def test_behaviour_a_run_may_have_had_accounts_for_its_symptoms_in_each_recipe_weighed():
    # An augmented run's training loss sits above validation on a higher floor: what noisy
    # training labels make too. Sent with a recipe that declares dropout and augmentation
    # absent, no behaviour accounts for it and noisy labels are claimed; sent with augmentation
    # declared, augmentation is. Sent with no config at all, each recipe it may have had is
    # weighed with its own differential: where it declares dropout or augmentation, that
    # accounts for the floor and noisy labels keep at most their unclaimed share, so they are
    # less likely on symptoms a likely habit explains. A config that names the optimizer and
    # nothing of the behaviour lies between: behaviour is weighed, as less likely.
    run = SUITE_BY_NAME["augmentation_train_only-5"].without_probe()
    recipe = {"optimizer": "adam", "learning_rate": 1e-3}
    absent = assess(replace(run, config={**recipe, "dropout": 0, "augmentation": "none"}))
    declared = assess(replace(run, config={**recipe, "augmentation": True})).scores
    plain = assess(replace(run, config=recipe)).scores
    unknown = assess(replace(run, config={})).scores
    noise = absent.scores["label_noise_train"]
    assert noise >= 0.8
    assert declared["augmentation_train_only"] >= CONFIRMED
    assert declared.get("label_noise_train", 0.0) <= UNCLAIMED
    assert unknown["label_noise_train"] < plain["label_noise_train"] < noise
    assert 0.0 < plain["augmentation_train_only"] < unknown["augmentation_train_only"]
    # Of the habits weighed, augmentation accounts for this run's training accuracy 16 points
    # under validation's; dropout, which costs training a few points, does not.
    assert unknown["regularization_train_only"] <= UNCLAIMED


def test_validation_below_training_with_no_behaviour_declared_asks_for_the_keys():
    # Validation 35% below training for 30 epochs, the config naming only the optimizer and
    # rate: the run reads as one without dropout or augmentation, the commonest reason for
    # that gap, so the summary says so and which keys settle it. Declared absent (0), or with
    # no config at all (weighed as possible), it does not repeat the request that way.
    epochs = np.arange(1, 31, dtype=float)
    base = 0.3 + np.exp(-epochs / 6)
    asked = "The config declares no dropout, label smoothing or augmentation"
    sparse = diagnose(history(base, base * 0.65, {"optimizer": "adam", "learning_rate": 1e-3}))
    assert asked in sparse.summary and "`dropout`" in sparse.summary
    declared = diagnose(history(base, base * 0.65, {"optimizer": "adam", "dropout": 0}))
    assert asked not in declared.summary
    unknown = diagnose(history(base, base * 0.65))
    assert asked not in unknown.summary and "says nothing of how the model was trained" in (
        unknown.summary
    )
    # Validation above training is no reason to ask.
    above = diagnose(history(base * 0.65, base, {"optimizer": "adam", "learning_rate": 1e-3}))
    assert asked not in above.summary


def test_two_curves_that_are_not_the_same_quantity_say_nothing_by_their_distance():
    # A training loss summed over batches of 32 against a mean on validation: validation sits
    # far below even the next epoch's training loss, which on the same quantity would say the
    # split is easier or leaks. Measured to be another quantity, the distance is the sum's,
    # and however sure a fitted model is of an easier split, it stays a candidate. The same
    # distance between two means keeps the model's word.
    e = np.arange(1, 31, dtype=float)
    val = 0.1 + 1.0 * np.exp(-e / 5)
    raw = {"loss_computation_mismatch": 0.99, "easier_validation": 0.8, "data_leakage": 0.8}
    summed = assess(history(32 * 1.4 * val, val)).symptoms
    assert {"loss_scale_mismatch", "val_below_beyond_lag"} <= present(summed)
    scores = confidences(raw, summed, 30, {})
    assert scores["loss_computation_mismatch"] >= CONFIRMED
    assert scores["easier_validation"] <= UNCLAIMED and scores["data_leakage"] <= UNCLAIMED
    means = assess(history(1.4 * val + 0.02 * (e % 2), val)).symptoms
    assert "val_below_beyond_lag" in present(means)
    assert "loss_scale_mismatch" not in present(means)
    assert confidences(raw, means, 30, {})["easier_validation"] == 0.8


def with_accuracies(base: History, train_acc, val_acc) -> History:
    series = {
        **base.epoch_series,
        "train_accuracy": Series.full(np.asarray(train_acc, float)),
        "val_accuracy": Series.full(np.asarray(val_acc, float)),
    }
    return replace(base, epoch_series=series)


def test_training_accuracy_that_keeps_up_is_no_evidence_of_wrong_labels():
    # An augmented residual net (four classes, the config naming only the optimizer) whose
    # validation loss sat 16% below training's while both accuracies were 0.57-0.58: wrong
    # training labels that raised its loss would have lowered its accuracy through the same
    # samples (7 to 28 points in every noisy-label run of both suites), yet it read "noisy
    # labels, 75%". The same losses beside a training accuracy 20 points below validation's
    # keep the labels in play.
    train = [1.4307, 1.3647, 1.3232, 1.2756, 1.2512, 1.2148, 1.1987, 1.1848, 1.1705, 1.1679]
    train += [1.1656, 1.1485, 1.1524, 1.1476, 1.1374, 1.1342, 1.1352, 1.1181, 1.1269, 1.1349]
    train += [1.1269, 1.1202, 1.1167, 1.1272, 1.1253, 1.1264, 1.1188]
    val = [1.3851, 1.3641, 1.3254, 1.2713, 1.2126, 1.1492, 1.099, 1.0519, 1.0121, 1.0002]
    val += [0.9876, 0.9818, 0.9795, 0.972, 0.9687, 0.9626, 0.9608, 0.9533, 0.9529, 0.9522]
    val += [0.9516, 0.9496, 0.9491, 0.9456, 0.9462, 0.9485, 0.9476]
    val_acc = np.minimum(0.25 + 0.04 * np.arange(27), 0.58)
    config = {
        "optimizer": "rmsprop",
        "learning_rate": 0.00041,
        "batch_size": 64,
        "loss": "cross_entropy",
    }
    h = history(train, val, config)
    kept_up = assess(with_accuracies(h, val_acc - 0.01, val_acc))
    assert "accuracy_shows_no_wrong_labels" in present(kept_up.symptoms)
    assert "label_noise_train" not in kept_up.scores
    behind = assess(with_accuracies(h, val_acc - 0.2, val_acc))
    assert "accuracy_shows_no_wrong_labels" not in present(behind.symptoms)
    assert behind.scores["label_noise_train"] > UNCLAIMED


def test_label_smoothing_floor_is_no_plateau():
    # Three classes with label smoothing 0.2: the smoothed targets' entropy, 0.49, is as low
    # as the training loss can go (44% of chance), so a classifier settling at 0.62 fit its
    # training set (it read "plateau high, underfitting 80%" at 91% training accuracy). The
    # same curve with no smoothing declared is a plateau at 56% of chance, and one that settles
    # at 0.95 under smoothing stops far above its floor.
    e = np.arange(1, 31, dtype=float)
    config = {
        "optimizer": "adamw",
        "learning_rate": 0.003,
        "batch_size": 16,
        "loss": "cross_entropy",
        "num_classes": 3,
        "train_size": 240,
        "val_size": 80,
        "epochs": 30,
        "label_smoothing": 0.2,
    }
    rng = np.random.default_rng(3)
    train = 0.62 + 0.5 * np.exp(-e / 4) + rng.normal(0, 0.004, 30)
    val = 0.66 + 0.45 * np.exp(-e / 4) + rng.normal(0, 0.004, 30)
    smoothed = assess(history(train, val, config))
    assert "high_plateau" not in present(smoothed.symptoms)
    assert smoothed.scores.get("underfitting", 0.0) <= UNCLAIMED
    plain = {k: v for k, v in config.items() if k != "label_smoothing"}
    assert "high_plateau" in present(assess(history(train, val, plain)).symptoms)
    high = assess(history(train + 0.33, val + 0.33, config))
    assert "high_plateau" in present(high.symptoms)


def test_a_log_that_begins_late_in_training_has_no_start_to_plateau_from():
    # A transformer's log kept from epoch 16 on (a scrollback): training 4.61 to 4.37 in 15
    # epochs beside a validation loss flat 1.6 above it. Its first loss is not where training
    # began, so 95% of it is no plateau ("underfitting" led the report); numbered from 1, the
    # same curve is one.
    rng = np.random.default_rng(5)
    train = np.linspace(4.613, 4.371, 15) + rng.normal(0, 0.003, 15)
    val = 5.99 + rng.normal(0, 0.015, 15)
    late = replace(history(train, val), epoch=np.arange(16, 31, dtype=float))
    a = assess(late)
    assert "high_plateau" not in present(a.symptoms)
    assert "epoch 16" in a.symptoms["high_plateau"].detail
    assert "underfitting" not in ids(report(a, cause_model.load()))
    assert "high_plateau" in present(assess(history(train, val)).symptoms)


def test_a_gap_only_where_the_curves_have_flattened_is_not_the_lag():
    # A GRU with dropout 0.5 under a one-cycle schedule: both curves level at first, then
    # falling together, then flat, validation 11% below training over the last epochs, below
    # even the next epoch's training loss. The half-epoch lag is half of what training still
    # falls in an epoch there, next to nothing, and it made no gap where the curves were
    # steep; it read "lag, 72%" where the re-evaluation measured dropout adding 0.029 of the
    # 0.067. The same end reached by curves whose gap opened as they fell keeps the lag.
    train = [1.3797, 1.3785, 1.3769, 1.3703, 1.362, 1.3439, 1.3229, 1.2319, 1.0048, 0.9035]
    train += [0.877, 0.8272, 0.8005, 0.7755, 0.7532, 0.7119, 0.6711, 0.6231, 0.6251, 0.5899]
    train += [0.5839, 0.6, 0.6004, 0.5961, 0.5888, 0.5894, 0.5919, 0.5666, 0.5798, 0.5739]
    train += [0.5773, 0.5649, 0.5739, 0.5917, 0.5688, 0.5886, 0.5589]
    val = [1.3786, 1.3761, 1.3716, 1.3642, 1.3527, 1.333, 1.2874, 1.0359, 0.9615, 0.8947]
    val += [0.8433, 0.7966, 0.7428, 0.7304, 0.674, 0.5953, 0.6062, 0.5594, 0.5659, 0.5394]
    val += [0.5359, 0.5249, 0.529, 0.5157, 0.514, 0.5398, 0.5161, 0.5122, 0.5181, 0.5118]
    val += [0.5087, 0.5084, 0.5091, 0.5097, 0.5096, 0.5096, 0.5096]
    config = {
        "optimizer": "adamw",
        "learning_rate": 0.00256,
        "batch_size": 128,
        "loss": "cross_entropy",
        "num_classes": 4,
        "train_size": 700,
        "val_size": 300,
        "epochs": 37,
        "lr_schedule": "onecycle",
        "dropout": 0.5,
    }
    flat = assess(history(train, val, config))
    assert "late_gap_beyond_lag" in present(flat.symptoms)
    assert flat.scores["measurement_lag"] <= UNCLAIMED
    e = np.arange(1, 38, dtype=float)
    steep_train = 0.56 + 0.85 * np.exp(-e / 6)
    steep_val = 0.51 + 0.6 * np.exp(-e / 6)
    opened = assess(history(steep_train, steep_val, config))
    assert "val_below_train_early" in present(opened.symptoms)
    assert "late_gap_beyond_lag" not in present(opened.symptoms)
    assert opened.scores["measurement_lag"] > UNCLAIMED
