"""What goes into a tracker: a verdict that puts a likely problem before a likely benign cause,
the top causes with their confidences, and a plot of the curves."""

from lossgap_client.verdict import entries, verdict

from app.writeback.plot import curves_png


def cause(id_, kind, confidence):
    return {"id": id_, "kind": kind, "confidence": confidence}


def test_a_likely_problem_is_the_verdict_even_behind_a_likelier_benign_cause():
    diagnosis = {
        "summary": "s",
        "engine_version": "0.6.0",
        "causes": [
            cause("measurement_lag", "benign", 0.9),
            cause("overfitting", "problem", 0.7),
            cause("not_converged", "problem", 0.2),
            cause("lr_too_low", "problem", 0.1),
        ],
    }
    assert verdict(diagnosis) == "problem: overfitting (0.70)"
    written = entries(diagnosis, "http://lossgap/v1/runs/1")
    assert written["lossgap.causes"] == "measurement_lag 0.90, overfitting 0.70, not_converged 0.20"
    assert written["lossgap.confidence.overfitting"] == 0.7
    assert "lossgap.confidence.lr_too_low" not in written  # the top three only
    assert written["lossgap.run"] == "http://lossgap/v1/runs/1"


def test_no_cause_at_even_odds_is_no_verdict():
    assert verdict({"causes": [cause("overfitting", "problem", 0.3)]}) == "no likely cause"
    assert verdict({"causes": []}) == "no likely cause"


def test_the_plot_is_a_png_and_skips_what_is_not_a_number():
    epochs = [
        {"epoch": 1.0, "train_loss": 1.0, "val_loss": float("nan")},
        {"epoch": 2.0, "train_loss": 0.8, "val_loss": 0.9},
    ]
    assert curves_png(epochs, "lossgap: no likely cause")[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_plot_draws_thinned_step_losses_too():
    import numpy as np

    from app.pages.downsample import min_max

    x = np.linspace(0, 2, 100_000)
    steps = min_max(x, np.exp(-x) + 0.01 * np.sin(x * 1000))
    epochs = [{"epoch": 1.0, "train_loss": 0.6, "val_loss": 0.7}, {"epoch": 2.0, "train_loss": 0.2}]
    with_steps = curves_png(epochs, "t", steps)
    assert with_steps[:8] == b"\x89PNG\r\n\x1a\n" and with_steps != curves_png(epochs, "t")
