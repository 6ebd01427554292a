"""Symptoms: what the curves (and a re-evaluation) show, measured before any cause is named.

The differential diagnosis starts here. A cause is considered only when its mechanism can
produce what was measured: each `CauseSpec` names the symptoms it needs and those it cannot
produce. A symptom is present only when it is clear against the curve's own noise *and* large
enough to matter (a share of the loss level): a tiny, significant decline at the end of a cosine
schedule is not "still improving", and a gap of 0.1% of the loss is not a gap. Every symptom
carries its effect size, so the user sees how far from the line it was.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.symptoms.capacity import capacity
from app.analysis.symptoms.config import (
    declared_behaviour,
    early_stopping,
    learning_rate,
    rate_schedule,
    schedule,
    steps_taken,
    warm_up,
)
from app.analysis.symptoms.findings import from_checks
from app.analysis.symptoms.gap import gap_symptoms, gap_trend
from app.analysis.symptoms.loss_scale import loss_scale
from app.analysis.symptoms.predictions import frozen_predictions
from app.analysis.symptoms.reevaluation import from_probe, trains_differently
from app.analysis.symptoms.shape import training_shape, validation_shape
from app.analysis.symptoms.symptom import Symptom, Symptoms, present

__all__ = ["Symptom", "Symptoms", "measure", "present", "redeclared", "trains_differently"]


def measure(c: Curves, findings: Mapping[str, Finding]) -> dict[str, Symptom]:
    """Every symptom measured on this run, by id."""
    found = [
        *loss_scale(c, findings),
        *gap_symptoms(c),
        *gap_trend(c),
        *validation_shape(c),
        *frozen_predictions(c),
        *training_shape(c),
        *schedule(c),
        *early_stopping(c),
        *learning_rate(c),
        *rate_schedule(c),
        *warm_up(c, findings),
        *steps_taken(c),
        *declared_behaviour(c),
        *capacity(c),
        *from_checks(findings),
        *from_probe(c, findings),
    ]
    measured = {s.id: s for s in found}
    return {**measured, **{s.id: s for s in _combined(measured)}}


@dataclass(frozen=True)
class Combined:
    """A symptom that means something only together: every one of `parts` present (the first
    gives the effect size; with none, the first present of `any_of`), at least one of `any_of`
    where it names some, and none of `unless` (measured before it, earlier in COMBINED)."""

    id: str
    parts: tuple[str, ...]
    unless: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()


# - Validation is measured at one instant, so steps that overshoot show there first; but
#   augmentation, small sets and detection losses make validation jitter at any rate: only at a
#   rate thirty times the usual one may a noisy validation loss be overshooting.
# - A training curve that oscillates, jumps, climbs back, breaks or sits at chance at a rate
#   thirty times the usual one: that rate is the first suspect. A smooth curve at such a rate
#   may have settled above the floor a usual rate reaches, or been trained with warm-up and
#   clipping that make the rate safe, and validation that only jitters does not tell them
#   apart (6 of 9 such throwaway runs were not helped by a tenth of the rate): the rate is then
#   a candidate, not a confirmation. Nor where a tenth of the rate could not move the weights
#   of a model that never left its start (`lower_rate_cannot_help`): the rerun that would show
#   the rate too high cannot do better.
# - Validation rising materially after its minimum, with a significant upward trend that lasts
#   while training still falls, is overfitting as causes.md defines it: the checkpoint at the
#   minimum generalizes better than the last one. So is a rise that reached a plateau while
#   training fell toward zero (a model that memorized its set within the first tenth of a long
#   run; the trend test reads the plateau). Not when the steps overshoot (training swings, or
#   validation jitters at a far higher rate): they push validation up without memorizing.
# - Validation worse from its first evaluation while training learns: nothing learned carries
#   over. Either validation is unlike training (`fit_then_never_improved`) or the model is
#   memorizing samples in which it finds no signal, as an overfit does, on a high plateau or
#   down to zero loss (a residual net on 200 noisy images it never told apart fit them all,
#   validation at chance throughout). Memorizing costs validation about what it gains
#   training; inputs unlike training's, scored wrong with growing confidence, all of them,
#   more (`val_rise_outpaces_training`: every such run of both suites was preprocessed
#   differently).
# - Validation scoring better than training in eval mode is an easier validation set, noisy
#   training labels, or leaked samples; inputs that tell the splits apart are a preprocessing
#   mismatch or a different distribution. Both together are the definition of a validation set
#   drawn from an easier distribution (causes.md); in both generators' runs, every one of the 14
#   runs that showed both had one. Validation scoring worse in eval mode on inputs a classifier
#   tells apart is its mirror when nearly every input feature moved: inputs transformed unlike
#   training's; all 27 runs of both generators that showed both had a validation set preprocessed
#   differently. A draw of other samples moves only the features that tell them apart.
# - A training loss that keeps creeping down at the pace it has kept, at a rate ten times below
#   the usual one, is what causes.md calls a learning rate too low: ten times the rate is still
#   a usual one and would have gone faster.
# - A training loss stuck at chance, on a high plateau or where it began, after steps that
#   could move no weight by a tenth (an adaptive optimizer's rate x its steps): the model never
#   left its initialization, and ten times the rate is what it lacked. Not when the loss jumped
#   by orders of magnitude, broke or exploded on the way: the weights did move (RMSprop's and
#   Adam's first steps run far above the nominal rate), and whatever holds the loss high, it is
#   not steps too small to leave the start.
# - A training loss stuck where it began, at chance or on a high plateau, after 150 optimizer
#   steps or more (`stuck_after_enough_steps`, `at_chance_after_enough_steps`,
#   `high_plateau_after_enough_steps`): steps enough to leave a start at a usual rate. After
#   fewer, more steps at any rate may be all it lacked, whatever the rate or the model's size.
#   At a usual rate, those steps moved the weights as far as a rate ten times higher is meant
#   to: what holds the loss is the model, its data or its labels more often than the rate
#   (`stuck_not_at_a_usual_rate`, `at_chance_not_at_a_usual_rate`: ten times the rate helped 2
#   of 32 such suite runs and 3 of 12 of a throwaway batch, against 21 of 22 stuck runs whose
#   rate was below the usual one or not stated).
# - A training loss creeping down at its own pace at a usual rate: the steps were as long as
#   they usually are, and the pace is the task's or the model's as often as the rate's
#   (`creeps_not_at_a_usual_rate` is the creep where the rate is below the usual one or not
#   stated; a validation loss still falling beside it is evidence of its own). Of the runs of
#   both suites and three throwaway batches creeping at a usual rate beside a validation loss
#   no longer falling, ten times the rate helped 5 of 15 (a hard four-class task creeping at
#   three times AdamW's usual rate read "learning rate too low, 100%"); of those creeping below
#   the usual rate, all 30.
# - A model that ends at chance at a usual learning rate (within ten times below and thirty
#   times above the optimizer's usual one), after enough steps to move its weights (not
#   `few_steps_for_the_rate`) and 150 steps at least (not `few_steps_taken`: after fewer, more
#   steps at any rate may be all it lacked), its losses finite and never collapsing there
#   from below, was given steps that move a model that can learn: it cannot fit the training
#   set (too little capacity, frozen layers, a penalty too strong). Batch norm on small or
#   non-i.i.d. batches holds a model at chance too: not where the config declares it. All 8 such
#   runs of both generators were underfit (the 3 that declare batch norm are its plants), all
#   trained with Adam or AdamW. SGD's steps follow the gradient, not the rate, so how far they
#   moved the model is unknown: none of 9 throwaway runs at chance at SGD's usual rate after
#   27-150 steps was helped by a model four times as wide.
#   That the model cannot fit is one reading: a task it cannot learn from the data it was given
#   holds it there too (none of 24 throwaway runs ending so was helped by a model four times as
#   wide). Where the model was counted, under a parameter per training sample
#   (`capacity_short`, symptoms/capacity.py), it is the model's size
#   (`at_chance_with_few_parameters`); where it was not, the fitted models weigh the curves.
# What steps that overshoot produce in the curves (validation's jitter only at a far higher rate).
OVERSHOOTING = (
    "unstable_training",
    "loss_jump",
    "nonfinite",
    "loss_exploded",
    "collapsed_to_chance",
    "at_chance",
    "train_climbs_back",
    "train_rises_from_start",
    "noisy_at_a_far_higher_rate",
)
# What overshooting steps do beyond validation's jitter: the damage itself. A classifier at
# chance is damage where it got there by overshooting: it came down from a quarter above chance
# (`at_chance_from_above`: confident mistakes, then units that no longer fit), or it collapsed
# there from what it had learned. One that sat at chance from its first epoch may never have
# learned at any rate: six throwaway runs did so at 30-55 times the usual rate on a task none
# of their models learned, a tenth of the rate helped none, and they read "rate too high, 90%".
# Swings and jumps are damage only where the run did not end on its lowest training loss
# after them, unless the config holds the rate constant: a schedule that lowered the rate from
# its peak let the last steps take the loss lower than any before (`overshoot_lasts`), while a
# loss that broke, exploded or fell back to chance stays damaged however it ends.
TRANSIENT = ("unstable_training", "loss_jump")
OVERSHOT = (
    "overshoot_lasts",
    *(s for s in OVERSHOOTING if s not in ("noisy_at_a_far_higher_rate", "at_chance", *TRANSIENT)),
    "at_chance_from_above",
)
COMBINED = (
    Combined(
        "settled_as_the_rate_fell",
        ("train_ends_at_its_lowest",),
        unless=("constant_rate_declared",),
    ),
    Combined("overshoot_lasts", (), unless=("settled_as_the_rate_fell",), any_of=TRANSIENT),
    Combined("stuck_after_enough_steps", ("train_stuck",), unless=("few_steps_taken",)),
    Combined("at_chance_after_enough_steps", ("at_chance",), unless=("few_steps_taken",)),
    Combined("stuck_not_at_a_usual_rate", ("stuck_after_enough_steps",), unless=("lr_usual",)),
    Combined("creeps_not_at_a_usual_rate", ("train_creeps",), unless=("lr_usual",)),
    Combined(
        "at_chance_not_at_a_usual_rate", ("at_chance_after_enough_steps",), unless=("lr_usual",)
    ),
    Combined("high_plateau_after_enough_steps", ("high_plateau",), unless=("few_steps_taken",)),
    Combined("noisy_at_a_far_higher_rate", ("noisy_validation", "lr_far_above_usual")),
    Combined(
        "lower_rate_cannot_help",
        ("tiny_step_budget_at_a_tenth_of_the_rate",),
        unless=("nonfinite", "loss_exploded", "train_rises_from_start"),
        any_of=("at_chance", "train_stuck"),
    ),
    Combined(
        "overshoots_at_a_far_higher_rate",
        ("lr_far_above_usual",),
        unless=("lower_rate_cannot_help",),
        any_of=OVERSHOT,
    ),
    Combined(
        "overfitting_signature",
        ("val_rises_after_min",),
        unless=(
            "unstable_training",
            "noisy_at_a_far_higher_rate",
            "val_rise_within_sampling_error",
            "val_rise_outpaces_memorizing",
        ),
        any_of=("val_trends_up_while_training_falls", "val_rise_held_as_training_fell"),
    ),
    Combined(
        "never_improved_as_memorizing",
        ("val_never_improves",),
        unless=("val_rise_outpaces_training", "val_predictions_frozen"),
    ),
    Combined(
        "fit_then_never_improved", ("val_never_improves",), unless=("never_improved_as_memorizing",)
    ),
    Combined("easier_split_measured", ("eval_val_below", "split_shift")),
    # Training accuracy further below validation's than dropout lowers it, where no augmentation
    # or mixup is declared (they lower it by any amount) and no re-evaluation measured what
    # training-time behaviour adds (that measures dropout itself).
    Combined(
        "accuracy_deficit_beyond_dropout",
        ("train_accuracy_far_below_validation",),
        unless=("declares_augmentation", "train_time_effect"),
    ),
    # The only gap the curves show is at their end, and there validation sits below even the
    # next epoch's training loss: a half-epoch lag cannot have produced any of it (the curves
    # were level early, where the lag is largest, and it is half an epoch's fall late).
    Combined(
        "late_gap_beyond_lag",
        ("val_below_beyond_lag_late", "val_below_train"),
        unless=("val_below_train_early", "val_below_train_first"),
    ),
    # Training as accurate as validation beside a validation loss measured below training's,
    # where no re-evaluation counted training labels the model rejects: wrong labels that raise
    # the training loss cost its accuracy through the same samples. (A gap within the noise
    # needs no explaining: a model that memorized some of its wrong labels keeps its accuracy
    # up while they hold its loss high.)
    Combined(
        "accuracy_shows_no_wrong_labels",
        ("train_accuracy_keeps_up", "val_below_train"),
        unless=("noisy_labels",),
    ),
    # As many rejected training labels as wrong ones make, and rejections that account for the
    # accuracy validation gains over training: the labels, not harder samples.
    Combined("wrong_labels_measured", ("noisy_labels", "labels_rejected")),
    Combined(
        "easier_labels_measured",
        ("eval_val_below", "labels_shift"),
        unless=("wrong_labels_measured",),
    ),
    Combined("shifted_split_measured", ("eval_val_above", "inputs_transformed")),
    Combined("shift_costs_validation", ("eval_val_worse", "inputs_transformed")),
    Combined("creeps_at_a_low_rate", ("train_creeps", "lr_below_usual")),
    # Steps below the usual size that could not move a weight by a tenth over the whole run: the
    # mechanism itself, counted from the config, whatever shape the curves took (a transformer at
    # a 22nd of AdamW's usual rate flattened as any run does, 0.024 per weight at most).
    Combined("tiny_steps_below_the_usual_rate", ("tiny_step_budget", "lr_below_usual")),
    Combined(
        "stuck_on_a_tiny_step_budget",
        ("tiny_step_budget",),
        unless=(
            "loss_jump",
            "nonfinite",
            "loss_exploded",
            "tiny_step_budget_at_ten_times_the_rate",
        ),
        any_of=("at_chance", "high_plateau", "train_stuck"),
    ),
    Combined(
        "stalled_on_small_first_steps",
        ("stalled_at_chance",),
        unless=(
            "first_steps_not_small",
            "left_chance_while_warming_up",
            "stalled_past_the_warm_up",
        ),
    ),
    Combined(
        "stuck_on_a_tiny_step_budget_below_the_usual_rate",
        ("stuck_on_a_tiny_step_budget",),
        unless=("lr_usual",),
    ),
    Combined(
        "stopped_on_noise",
        ("stopped_while_falling", "stopped_by_patience"),
        unless=("ran_most_of_the_plan",),
    ),
    Combined(
        "stopped_with_the_plan_ahead", ("ended_after_bump",), unless=("ran_most_of_the_plan",)
    ),
    Combined(
        "cut_short_by_patience",
        ("ran_a_fifth_of_the_plan",),
        any_of=("stopped_before_a_trend", "stopped_after_few_steps"),
    ),
    Combined("at_chance_not_cut_short", ("at_chance",), unless=("cut_short_by_patience",)),
    Combined(
        "at_chance_at_a_usual_rate",
        ("at_chance", "lr_usual"),
        unless=(
            "nonfinite",
            "loss_exploded",
            "collapsed_to_chance",
            "declares_batch_norm",
            "few_steps_for_the_rate",
            "few_steps_taken",
            "steps_follow_the_gradient",
        ),
    ),
    Combined("at_chance_with_few_parameters", ("at_chance_at_a_usual_rate", "capacity_short")),
    Combined(
        "at_chance_of_any_size",
        ("at_chance_after_enough_steps",),
        unless=("capacity_restrained", "capacity_short"),
    ),
    # The same of a model that learned nothing either curve shows, where no chance level says
    # so (a regression that never left the mean of its targets).
    Combined(
        "unmoved_of_any_size",
        ("neither_curve_moved",),
        unless=("few_steps_taken", "capacity_restrained", "capacity_short"),
    ),
)


def redeclared(symptoms: Mapping[str, Symptom], behaviour: Mapping[str, Symptom]) -> Symptoms:
    """The symptoms as a config declaring `behaviour` has them: the declarations replaced and
    every combined symptom measured again from them (a deficit of training accuracy that
    augmentation accounts for under a recipe declaring it, and not under one without)."""
    combined = {c.id for c in COMBINED}
    measured = {k: s for k, s in symptoms.items() if k not in combined} | dict(behaviour)
    return {**measured, **{s.id: s for s in _combined(measured)}}


def _combined(measured: Mapping[str, Symptom]) -> list[Symptom]:
    known = dict(measured)
    out = []
    for combined in COMBINED:
        found = [known.get(part) for part in combined.parts]
        symptoms = [s for s in found if s is not None]
        alternatives = [known[a] for a in combined.any_of if a in known]
        if len(symptoms) < len(combined.parts) or (combined.any_of and not alternatives):
            continue
        vetoed = any(known[u].present for u in combined.unless if u in known)
        either = not combined.any_of or any(a.present for a in alternatives)
        # The effect size is the first part's, or where there is none, the first present
        # alternative's.
        lead = (symptoms or [a for a in alternatives if a.present] or alternatives)[0]
        symptom = Symptom(
            combined.id,
            all(s.present for s in symptoms) and either and not vetoed,
            lead.value,
            lead.unit,
            "; ".join(s.detail for s in (*symptoms, *(a for a in alternatives if a.present))),
        )
        known[combined.id] = symptom
        out.append(symptom)
    return out
