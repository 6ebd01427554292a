"""Symptoms the run's config states: whether it trained every planned epoch, a learning rate far
from the optimizer's usual one or held constant, and training-time behaviour it declares.
"""

import math
from collections.abc import Mapping

import numpy as np

from app.analysis.checks.early_stop import MIN_POINTS, stopped_by_patience
from app.analysis.config_keys import (
    ADAPTIVE_OPTIMIZERS,
    TYPICAL_LR,
    declares_augmentation,
    declares_batch_norm,
    declares_constant_rate,
    declares_full_first_steps,
    declares_regularization,
    early_stopping_patience,
    lr_decades,
    optimizer_name,
    planned_epochs,
    step_budget,
    usual_lr,
    warm_up_share,
)
from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.symptoms.symptom import Symptom, check_feature
from app.analysis.wording import count

# A run early stopping ended on fewer validation losses than tell a bump from a trend
# (`MIN_POINTS`, what the early-stop check needs), within the first fifth of the epochs its
# config plans: the stopper decided on a few evaluations of a model its plan gave five times as
# long (`cut_short_by_patience`), at chance or not, since it had no time to learn. Of the five
# such runs of both generators and two throwaway batches (2 to 4 epochs of 34 to 40), training
# on helped four (the fifth, a GRU at chance stopped in its warm-up, was not helped), and none
# had been judged: the early-stop check skips them. A parity net at chance stopped after 14 of
# 74 epochs, enough to judge, was not helped. Nor can a stop after fewer optimizer steps than
# move a model (`FEW_STEPS_TAKEN`, `stopped_after_few_steps`) have judged one, however many
# evaluations it read: a transformer at chance after 50 steps, stopped on its fifth of 40
# planned epochs, was helped by training on.
FIFTH_OF_THE_PLAN = 0.2
# ... of a model that was moving: a training loss that changed by less than this share of its
# first value did not (a rate of 1e-11, dead units), and no stop cut its progress short. Two
# real faulty Keras programs stopped after 4 epochs of 90 and 1000 on losses unchanged in their
# fifth digit; the five runs above moved 0.4% or more.
FROZEN = 1e-3
# A run that logged four fifths of the epochs its config plans or more: early stopping that
# fired there took at most a fifth of the plan, where schedules anneal the rate and little is
# left to gain. On three throwaway batches, the three runs stopped on a bump with 17-18% of the
# plan left were not helped by training on (read "early stopping fired too soon, 90%"); every
# premature stop of both generators and the batches had 22% of its plan left or more.
MOST_OF_THE_PLAN = 0.8
# A configured learning rate this many decades below the optimizer's usual one (a thousand
# times): training ten times faster is then within reach of a rate still far below the usual
# (rerunning at lr x 10), and below even the rates pretrained models are fine-tuned at.
LR_FAR_BELOW = 3.0
# ... or this many above it (thirty times): steps that large overshoot wherever the loss curves.
LR_FAR_ABOVE = math.log10(30)
# Ten times below it: rerunning at lr x 10 is then still a usual rate, so a loss that keeps
# creeping down there would be helped (`creeps_at_a_low_rate` in symptoms/__init__.py).
LR_BELOW = 1.0
# Ten times above it: steps that size are not too small. A rate is too low when ten times it
# would help, and a hundred times the usual rate helps no run: none of the 68 runs of both
# generators and two throwaway batches at ten times or more was helped by it, and an SGD run at
# fifteen times the usual rate whose 8-unit net under dropout 0.5 never learned read "learning
# rate too low, 93%".
LR_ABOVE = 1.0
# An adaptive optimizer moves each weight by about the learning rate a step, so over the run by
# at most lr x steps. Under half, a few times the scale weights start at (a 64-wide layer is
# initialized within 0.125), the model may hardly have left its initialization: ending at chance
# then does not say the model cannot fit (`at_chance_at_a_usual_rate`). Of the runs of both
# generators that end stuck (at chance, on a high plateau or where they began) with fewer, ten
# times the rate helped 25 of 33; with more, 16 of 75.
FEW_STEPS = 0.5
# Under a tenth, less than the scale weights start at: the model cannot have left its
# initialization, and a loss stuck there is the steps' doing (`stuck_on_a_tiny_step_budget`):
# ten times the rate helped 17 of the 19 such runs of both generators and a throwaway batch at
# a rate below the usual one. At a usual rate such a budget is a short run, which more epochs
# would lengthen as well as a larger rate, on a task that may need more than either: ten times
# the rate helped 6 of 13 such runs (1 of 1 in the suites, 5 of 12 in four throwaway batches,
# quadrant and burst tasks that a four times wider model did not learn either), so there the
# budget makes a rate too low a candidate for the models to weigh, not a confirmation
# (`stuck_on_a_tiny_step_budget_below_the_usual_rate`).
TINY_STEPS = 0.1
# A learning rate is too high when a tenth of it helps; at a tenth, the run's steps move each
# weight by a tenth as far. Where that is under `TINY_STEPS` (a budget under 1) and the run itself
# never left chance or its start, the rerun at a tenth of the rate cannot leave its
# initialization either and so cannot score better than the run did, unless the run ended worse
# than where it began (`lower_rate_cannot_help` in symptoms/__init__.py). Two runs of a
# throwaway batch at chance at thirty times AdamW's and RMSprop's usual rate after 15 and 25
# steps read "rate too high, 90%": a tenth of it helped neither. A run that learned is another
# matter: an easy task is learned in steps that move each weight by less (two first-generator
# overfits at ten times Adam's rate, 94 steps, were helped by a tenth of it).
# The mirror: where ten times the rate still moves each weight by under `TINY_STEPS` (a budget
# under 0.01), the rerun a rate too low is judged by cannot leave the start either, so a loss
# stuck there does not confirm the small steps (`stuck_on_a_tiny_step_budget`): 13 of 18 such
# throwaway runs were not helped by ten times the rate (of the 17 stuck suite runs, 1 has such a
# budget, 0.009, and was).
RATE_RERUN = 10.0  # the reruns a learning rate is judged by: ten times lower and higher
# Fewer optimizer steps than this in all (epochs x train_size / batch_size): a loss still stuck
# where it began, at chance or held high may need more steps at any rate, so it is no evidence
# of its own that the rate was too low or the model too small. Of 26 throwaway runs stuck after
# fewer that the models claimed a rate too low for, ten times the rate helped 6, and a model
# four times as wide helped none of the 15 they claimed underfit; every suite run claimed
# either took 150 steps or more.
FEW_STEPS_TAKEN = 150


def steps_taken(c: Curves) -> list[Symptom]:
    """How many optimizer steps the run took, where the config says (`train_size`,
    `batch_size`)."""
    steps = c.steps()
    if steps <= 0:
        return []
    return [
        Symptom(
            "few_steps_taken",
            steps < FEW_STEPS_TAKEN,
            round(steps, 1),
            "optimizer steps",
            f"about {round(steps)} optimizer steps in {count(c.n, 'epoch')}",
        )
    ]


def schedule(c: Curves) -> list[Symptom]:
    """Whether the run trained every epoch it was set to (config `epochs`): early stopping that
    fires ends a run before its plan, so one that ran as planned was not stopped early."""
    planned = planned_epochs(c.config)
    if planned is None or c.n == 0:
        return []
    share = c.n / planned
    detail = f"{count(c.n, 'epoch')} logged of the {planned} the config plans"
    return [
        Symptom("ran_as_planned", share >= 1, round(share, 4), "of the planned epochs", detail),
        Symptom(
            "ran_most_of_the_plan",
            share >= MOST_OF_THE_PLAN,
            round(share, 4),
            "of the planned epochs",
            detail,
        ),
        Symptom(
            "ran_a_fifth_of_the_plan",
            share <= FIFTH_OF_THE_PLAN,
            round(share, 4),
            "of the planned epochs",
            detail,
        ),
    ]


def early_stopping(c: Curves) -> list[Symptom]:
    """Whether the config's early stopping ended the run: it ends its `early_stopping_patience`
    evaluations after its best, before the `epochs` it plans (when the config says)."""
    patience = early_stopping_patience(c.config)
    if patience is None:
        return []
    stopped = stopped_by_patience(c)
    evaluations = int(np.isfinite(c.val).sum())
    steps = c.steps()
    train = c.train[np.isfinite(c.train)]
    moved = float(np.ptp(train) / abs(train[0])) if len(train) >= 2 and train[0] != 0 else 0.0
    frozen = "" if moved >= FROZEN else f", its training loss moving {moved:.2g} of its first value"
    return [
        Symptom(
            "stopped_by_patience",
            stopped,
            float(patience),
            "evaluations of patience",
            f"the run {'ends' if stopped else 'does not end'} {count(patience, 'evaluation')} "
            "after its best validation loss, as early stopping with the configured patience "
            "would",
        ),
        Symptom(
            "stopped_before_a_trend",
            stopped and evaluations < MIN_POINTS and moved >= FROZEN,
            float(evaluations),
            "validation losses",
            f"early stopping {'ended' if stopped else 'did not end'} the run, after "
            f"{count(evaluations, 'validation loss')} ({MIN_POINTS} tell a bump from a trend)"
            + frozen,
        ),
        Symptom(
            "stopped_after_few_steps",
            stopped and 0 < steps < FEW_STEPS_TAKEN and moved >= FROZEN,
            round(steps, 1) if steps > 0 else None,
            "optimizer steps",
            f"early stopping {'ended' if stopped else 'did not end'} the run after about "
            f"{round(steps)} optimizer steps ({FEW_STEPS_TAKEN} or more move a model at a usual "
            "rate)" + frozen,
        ),
    ]


def rate_schedule(c: Curves) -> list[Symptom]:
    """Whether the config declares a rate held constant (`lr_schedule`): one that no schedule
    lowered, so a run that ends on its lowest loss was not saved by a falling rate; and whether
    its first steps took a rate at or above the optimizer's usual one (no warm-up), so a model
    that sat at chance before learning was not held there by small steps."""
    if "lr_schedule" not in c.config:
        return []
    constant = declares_constant_rate(c.config)
    decades = lr_decades(c.config)
    full = declares_full_first_steps(c.config) and decades is not None and decades >= 0
    return [
        Symptom(
            "constant_rate_declared",
            constant,
            None,
            "",
            f"the config's lr_schedule, {c.config['lr_schedule']!r}, "
            f"{'holds the rate constant' if constant else 'may lower the rate'}",
        ),
        Symptom(
            "first_steps_not_small",
            full,
            None if decades is None else round(decades, 3),
            "decades from the optimizer's usual rate",
            f"the config's lr_schedule, {c.config['lr_schedule']!r}, "
            + (
                "starts at the configured rate, at or above the optimizer's usual one"
                if full
                else "may start below the configured rate, or that rate is below the usual one"
            ),
        ),
    ]


def warm_up(c: Curves, findings: Mapping[str, Finding]) -> list[Symptom]:
    """Whether a classifier that sat at chance before learning left it while a warm-up the config
    states was still climbing (`warm_up_share`): a rate below the configured one was then enough
    to leave the start, and the stall was the small first steps the schedule takes by design, not
    a configured rate too low. Ten times the rate would still have shortened the stall, and a run
    that learned late may not have finished: such a stall is a coin flip, not a confirmation. Of
    the one-cycle runs of the second generator and two throwaway batches that left chance within
    the climb (a fifth of the run; the climb takes a quarter to 0.3), 4 of 9. On the batch made
    after this was found it removed one false claim and two true ones. A stall that outlasted
    the climb (`stalled_past_the_warm_up`) sat at chance at the full configured rate as well: a
    plateau of the loss any rate waits out as often as steps too small, and no confirmation
    either. Of such one-cycle runs (0.26 to 0.44 of the run at chance), ten times the rate helped
    7 of 9 in the second generator and two throwaway batches, 3 of 7 in two later ones (GRUs
    and residual nets on waveforms and arrow images at 0.4 to 2 times AdamW's usual rate), which
    had read "learning rate too low, 90-100%" on the stall. The stall is the progress check's
    (`pg_stall`, its share of the finite training losses)."""
    finite = c.train[np.isfinite(c.train)]
    share = warm_up_share(c.config, c.batches_per_epoch())
    stalled = round(check_feature(findings, "progress", "pg_stall") * len(finite))
    if share is None or stalled == 0:
        return []
    planned = planned_epochs(c.config) or len(finite)
    within = stalled < share * planned
    measured = (
        round(stalled / planned, 3),
        "of the planned epochs at chance",
        f"the loss sat at chance for {count(stalled, 'epoch')} of {planned}; the config's "
        f"warm-up climbs for {share:.0%} of them",
    )
    return [
        Symptom("left_chance_while_warming_up", within, *measured),
        Symptom("stalled_past_the_warm_up", not within, *measured),
    ]


def learning_rate(c: Curves) -> list[Symptom]:
    """The configured learning rate against the optimizer's usual one (config `learning_rate`
    and `optimizer`)."""
    decades = lr_decades(c.config)
    if decades is None:
        return []
    optimizer = optimizer_name(c.config)
    usual = usual_lr(c.config)
    batch = c.config.get("batch_size")
    scaled = "" if usual == TYPICAL_LR.get(optimizer) else f" at a batch of {batch}"
    detail = (
        f"the configured learning rate is {10**decades:.3g} times the usual {usual:g} for "
        f"{optimizer}{scaled}"
    )
    unit = "decades from the optimizer's usual rate"
    out = [
        Symptom("lr_far_below_usual", decades <= -LR_FAR_BELOW, round(decades, 3), unit, detail),
        Symptom("lr_below_usual", decades <= -LR_BELOW, round(decades, 3), unit, detail),
        Symptom("lr_above_usual", decades >= LR_ABOVE, round(decades, 3), unit, detail),
        Symptom("lr_far_above_usual", decades >= LR_FAR_ABOVE, round(decades, 3), unit, detail),
        Symptom(
            "lr_usual",
            -LR_BELOW < decades < LR_FAR_ABOVE,
            round(decades, 3),
            unit,
            detail,
        ),
    ]
    adaptive = optimizer in ADAPTIVE_OPTIMIZERS
    out.append(
        Symptom(
            "steps_follow_the_gradient",
            not adaptive,
            None,
            "",
            f"{optimizer} moves each weight by about the rate a step"
            if adaptive
            else f"{optimizer} moves each weight by the rate times its gradient, which a loss "
            "history does not show: how far its steps could move the model is unknown",
        )
    )
    steps = c.steps()
    budget = step_budget(c.config, steps)
    if budget is not None:
        moved = (
            f"{round(steps)} steps at a rate of {budget / steps:.3g}: {optimizer} could move "
            f"each weight by {budget:.3g} at most"
        )
        unit = "learning rate x steps"
        out += [
            Symptom(symptom_id, below, budget, unit, moved)
            for symptom_id, below in (
                ("few_steps_for_the_rate", budget < FEW_STEPS),
                ("tiny_step_budget", budget < TINY_STEPS),
                ("tiny_step_budget_at_ten_times_the_rate", budget * RATE_RERUN < TINY_STEPS),
                ("tiny_step_budget_at_a_tenth_of_the_rate", budget / RATE_RERUN < TINY_STEPS),
            )
        ]
    return out


def declared_behaviour(c: Curves) -> list[Symptom]:
    """Training-time behaviour the config declares: a penalty or altered inputs that raise the
    reported training loss above what the model scores in eval mode, and batch-norm layers."""
    return [
        Symptom(
            symptom,
            declared,
            float(declared),
            "",
            f"the config {'declares' if declared else 'does not declare'} {what}",
        )
        for symptom, declared, what in (
            (
                "declares_regularization",
                declares_regularization(c.config),
                "dropout, label smoothing, an L2 term in the loss or mixup",
            ),
            ("declares_augmentation", declares_augmentation(c.config), "augmentation or mixup"),
            ("declares_batch_norm", declares_batch_norm(c.config), "batch-norm layers"),
        )
    ]
