"""`probe()` in the user's process: the workers' report, from data loaders, posted to the run."""

import io

import httpx
import numpy as np
import pytest
import torch
from lossgap_client import Client, Tracker
from lossgap_client.probe import ProbeError, loss_name, probe
from lossgap_client.probe.leakage import chance_copies
from lossgap_client.probe_report import ProbeReport
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tests.conftest import LiveServer, server_env
from tests.planted import blobs, leakage, train
from workers.reevaluate.load import Data
from workers.reevaluate.report import Settings, build


def loaders(arrays, shuffle=False, batch_size=32):
    def loader(x, y, shuffle):
        data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)

    return (
        loader(arrays["x_train"], arrays["y_train"], shuffle),
        loader(arrays["x_val"], arrays["y_val"], False),
    )


def test_the_same_report_as_a_worker_on_the_same_model_and_data():
    planted = leakage(seed=1, epochs=5)
    model = torch.jit.load(io.BytesIO(planted.model))
    arrays = planted.arrays
    train_loader, val_loader = loaders(arrays)
    mine = probe(model, train_loader, val_loader, nn.CrossEntropyLoss(), permutations=200)
    settings = Settings("cross_entropy", 0.0, 32, 512, 200, 0.995, "classification", None, None)
    data = Data(arrays["x_train"], arrays["y_train"], arrays["x_val"], arrays["y_val"], None, False)
    heard: list[tuple[float, str]] = []
    worker = build(
        model, data, settings, torch.device("cpu"), lambda *at: heard.append(at), lambda: None
    )
    assert isinstance(mine, ProbeReport) and isinstance(worker, ProbeReport)
    assert (mine.source, worker.source) == ("client", "worker")
    for name in ("train_eval", "val_eval", "train_train_mode"):
        assert getattr(mine.passes, name).mean == pytest.approx(getattr(worker.passes, name).mean)
    assert mine.leakage and worker.leakage and mine.shuffled_split and worker.shuffled_split
    assert mine.leakage.exact_duplicates == worker.leakage.exact_duplicates == 200
    assert mine.shuffled_split.val_mean == pytest.approx(worker.shuffled_split.val_mean)
    histograms = worker.histograms
    assert histograms is not None and len(histograms.edges) == len(histograms.train) + 1
    assert (sum(histograms.train), sum(histograms.val)) == (len(data.x_train), len(data.x_val))
    shares, stages = zip(*heard, strict=True)
    assert list(shares) == sorted(shares) and heard[-1] == (1.0, "report built")
    assert max(np.diff([0.0, *shares])) < 0.6  # it moves through the work, not 0 then 1
    named = list(dict.fromkeys(stages))
    assert named[:2] == [
        "scoring the training set in eval mode",
        "scoring the validation set in eval mode",
    ]
    assert named[-4:-1] == [
        "testing the split against shuffled splits",
        "searching the training set for copies of validation samples",
        "measuring the shift between the splits",
    ]


class OverflowsOnSome(nn.Module):
    """A model whose loss is NaN on the samples whose first feature is large (it overflowed
    there), as a half-diverged checkpoint is."""

    def __init__(self, inner: nn.Module, above: float) -> None:
        super().__init__()
        self.inner, self.above = inner, above

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.inner(x)
        return torch.where((x[:, :1] > self.above), torch.full_like(out, float("nan")), out)


def test_a_model_that_overflows_on_some_samples_still_gets_its_copies_compared():
    planted = leakage(seed=2, epochs=5)
    arrays = dict(planted.arrays)
    fresh_x, fresh_y = blobs(100, 16, 4, seed=9)  # half of validation is not in training
    arrays["x_val"] = np.concatenate([arrays["x_val"][:100], fresh_x]).astype(np.float32)
    arrays["y_val"] = np.concatenate([arrays["y_val"][:100], fresh_y])
    model = OverflowsOnSome(torch.jit.load(io.BytesIO(planted.model)), above=1.0)
    report = probe(model, *loaders(arrays), nn.CrossEntropyLoss(), permutations=50)
    leak = report.leakage
    assert leak is not None and leak.near_duplicates >= 100
    assert leak.p_value is not None and 0 <= leak.p_value <= 1
    assert leak.leaked_val_loss is not None and np.isfinite(leak.leaked_val_loss)
    assert leak.clean_val_loss is not None and leak.leaked_val_loss < leak.clean_val_loss


def test_loss_names_and_their_label_smoothing():
    assert loss_name(nn.CrossEntropyLoss(label_smoothing=0.1)) == ("cross_entropy", 0.1)
    assert loss_name(nn.functional.mse_loss) == ("mse", 0.0)
    assert loss_name(nn.BCEWithLogitsLoss()) == ("bce", 0.0)
    with pytest.raises(ProbeError, match="KLDivLoss"):
        loss_name(nn.KLDivLoss())
    with pytest.raises(ProbeError, match="known: cross_entropy"):
        loss_name("hinge")


def test_what_the_user_must_fix_is_said():
    model = nn.Linear(4, 3)
    x, y = np.zeros((8, 4), np.float32), np.full(8, 5)
    train_loader, val_loader = loaders({"x_train": x, "y_train": y, "x_val": x, "y_val": y})
    with pytest.raises(ProbeError, match="class id 5 but the model outputs 3"):
        probe(model, train_loader, val_loader)
    with pytest.raises(ProbeError, match="tuples or dicts"):
        probe(model, [torch.zeros(4, 4)], val_loader)
    dicts = [{"pixels": torch.zeros(2, 4), "labels": torch.zeros(2)}]
    with pytest.raises(ProbeError, match="inputs under one of"):
        probe(model, dicts, val_loader)


@pytest.mark.slow
def test_a_probe_counts_what_the_model_can_fit_with_and_how_much_of_the_data_it_read():
    # The analysis weighs the trainable parameters against the training samples, and reads the
    # samples from n_train only where the probe read the whole training set.
    x, y = blobs(600, 8, 3, seed=2)
    arrays = {"x_train": x[200:], "y_train": y[200:], "x_val": x[:200], "y_val": y[:200]}
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    model[0].requires_grad_(False)
    whole = probe(model, *loaders(arrays), nn.CrossEntropyLoss(), permutations=50)
    part = probe(model, *loaders(arrays), nn.CrossEntropyLoss(), permutations=50, max_samples=150)
    assert whole.model.parameters == 16 * 3 + 3
    assert not whole.subsampled and whole.n_train == 400
    assert part.subsampled and part.n_train == 150


def test_a_probe_from_the_training_script_finds_planted_leakage(tmp_path):
    k = 4
    x, y = blobs(900, 16, k, seed=3)
    x_val, y_val = x[:200], y[:200]
    x_train, y_train = np.concatenate([x[200:500], x_val]), np.concatenate([y[200:500], y_val])
    model, rows = train(x_train, y_train, x_val, y_val, k=k, epochs=25, seed=3)
    server = LiveServer(server_env({"url": None}, tmp_path))
    try:
        with Client(server.url, spool_dir=tmp_path / "spool", flush_interval=0.05) as client:
            config = {"batch_size": 32, "num_classes": k, "val_size": 200}
            tracker = Tracker("leaky", client=client, config=config, task="classification")
            for row in rows:
                tracker.epoch(row["val_loss"], row["train_loss"])
            arrays = {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}
            report = probe(
                model, *loaders(arrays, shuffle=True), nn.CrossEntropyLoss(), run=tracker
            )
            diagnosis = tracker.finish(show=False)
        assert report.leakage is not None and report.leakage.exact_duplicates == 200
        assert report.decomposition.reported_train == pytest.approx(rows[-1]["train_loss"])
        stored = httpx.get(f"{server.url}/v1/runs/{tracker.id}/probes").json()
        assert [p["source"] for p in stored] == ["client"]
        assert diagnosis["causes"][0]["id"] == "data_leakage"
        check = next(c for c in diagnosis["checks"] if c["id"] == "reeval_leakage")
        assert check["status"] == "flagged"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def augmented_draw() -> tuple[ProbeReport, ProbeReport]:
    """A leaky run whose training saw an augmented draw (every input scaled and shifted), probed
    with its raw inputs (which hold every validation sample) and without them."""
    planted = leakage(seed=1, epochs=5)
    model = torch.jit.load(io.BytesIO(planted.model))
    a = planted.arrays
    augmented = (a["x_train"] * 1.5 + 1.0).astype(np.float32)
    settings = Settings("cross_entropy", 0.0, 32, 512, 50, 0.995, "classification", None, None)

    def report(raw: np.ndarray | None) -> ProbeReport:
        data = Data(augmented, a["y_train"], a["x_val"], a["y_val"], raw, False)
        return build(model, data, settings, torch.device("cpu"), lambda *_: None, lambda: None)

    return report(a["x_train"]), report(None)


def test_copies_and_shift_are_looked_for_in_the_training_inputs_before_augmentation(
    augmented_draw: tuple[ProbeReport, ProbeReport],
):
    # Compared with the augmented draw, the splits look different and the copies are hidden;
    # compared with the raw inputs, the copies are found and no shift is.
    raw, blind = augmented_draw
    assert raw.split_shift and raw.split_shift.raw_inputs is True
    assert raw.split_shift.adversarial_auc is not None and raw.split_shift.adversarial_auc < 0.75
    assert raw.leakage and raw.leakage.exact_duplicates == 200
    assert blind.split_shift and blind.split_shift.raw_inputs is False
    assert blind.split_shift.adversarial_auc is not None and blind.split_shift.adversarial_auc > 0.9
    assert blind.leakage and blind.leakage.exact_duplicates == 0


def test_copies_by_chance_are_measured_within_training():
    # Inputs on a coarse grid of two features repeat by themselves; wide random inputs never do.
    rng = np.random.default_rng(0)
    grid = rng.integers(0, 4, size=(400, 2)).astype(np.float32)
    share, drawn = chance_copies(grid, torch.device("cpu"), 0.995, 100) or (0.0, 0)
    assert share > 0.9 and drawn == 100
    wide = rng.normal(size=(400, 50)).astype(np.float32)
    share, _ = chance_copies(wide, torch.device("cpu"), 0.995, 100) or (1.0, 0)
    assert share == 0.0
    assert chance_copies(wide[:3], torch.device("cpu"), 0.995, 100) is None


@pytest.mark.parametrize("jitter", [0.0, 1e-4])
def test_a_drawn_sample_is_searched_for_in_all_the_rest_of_training(jitter: float):
    # Samples in pairs (exact, or near copies): each has its partner in training, as a
    # validation sample drawn from the same data would. Searched for in only the samples not
    # drawn, half the partners would be missed, and a small set's own copies pass for leakage.
    rng = np.random.default_rng(1)
    points = rng.normal(size=(40, 6)).astype(np.float32)
    pairs = np.concatenate([points, points + jitter * rng.normal(size=points.shape)])
    share, drawn = chance_copies(pairs.astype(np.float32), torch.device("cpu"), 0.995, 40) or (0, 0)
    assert (share, drawn) == (1.0, 40)


def test_labels_and_the_shuffled_split_are_judged_on_the_training_inputs_before_augmentation(
    augmented_draw: tuple[ProbeReport, ProbeReport],
):
    # The augmented draw makes the model confidently wrong about training samples whose labels
    # are right, and score them worse than validation: neither is noisy labels or an easier
    # validation set. On the raw inputs both are measured as they are.
    raw, blind = augmented_draw
    assert raw.label_noise and blind.label_noise
    assert raw.label_noise.raw_inputs is True and blind.label_noise.raw_inputs is False
    assert raw.label_noise.train_confident_wrong < blind.label_noise.train_confident_wrong
    assert raw.shuffled_split and blind.shuffled_split
    assert raw.shuffled_split.raw_inputs is True and blind.shuffled_split.raw_inputs is False
    assert raw.shuffled_split.z > blind.shuffled_split.z


def regression_probe(
    loss_fn: nn.Module, train_sd: float, val_sd: float, wrong: float, learned: bool = True
) -> tuple[ProbeReport, np.ndarray]:
    """A known linear model scored on targets it misses by Gaussian noise of `train_sd` and
    `val_sd`, a share `wrong` of the training targets replaced by unrelated values; one that
    has not `learned` predicts 0 for every sample."""
    rng = np.random.default_rng(3)
    weights = rng.normal(size=5).astype(np.float32)
    model = nn.Linear(5, 1)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(weights)[None] * float(learned))
        model.bias.zero_()
    x_train, x_val = (rng.normal(size=(n, 5)).astype(np.float32) for n in (1000, 400))
    y_train = x_train @ weights + rng.normal(0, train_sd, 1000).astype(np.float32)
    y_val = x_val @ weights + rng.normal(0, val_sd, 400).astype(np.float32)
    noisy = np.flatnonzero(rng.random(1000) < wrong)
    y_train[noisy] = rng.normal(0, 2.0, len(noisy)).astype(np.float32)
    arrays = dict(x_train=x_train, y_train=y_train[:, None], x_val=x_val, y_val=y_val[:, None])
    train_loader, val_loader = loaders(arrays)
    return probe(model, train_loader, val_loader, loss_fn, permutations=50), noisy


@pytest.mark.parametrize("loss_fn", [nn.MSELoss(), nn.L1Loss(), nn.HuberLoss()])
def test_wrong_regression_targets_are_counted_as_gross_residuals(loss_fn: nn.Module):
    # 30% of the training targets unrelated to the inputs: the model misses nearly all of them
    # by far more than it misses the rest (Gaussian residuals of 0.1), and no validation target.
    report, noisy = regression_probe(loss_fn, 0.1, 0.1, 0.3)
    noise = report.label_noise
    assert noise is not None and noise.measure == "gross_residual"
    share = len(noisy) / 1000
    assert 0.7 * share < noise.train_confident_wrong <= share + 0.01
    assert noise.val_confident_wrong < 0.01
    assert noise.examples and set(noise.examples) <= set(noisy.tolist())


def test_the_residuals_share_of_the_targets_spread_says_whether_wrong_targets_could_stand_out():
    # A model that fits (residuals of 0.1 against targets spread over ~2) misses validation by a
    # small share of the spread; one that learned nothing misses it by all of it, so a wrong
    # training target would not stand out among its residuals.
    fitted, _ = regression_probe(nn.MSELoss(), 0.1, 0.1, 0.3)
    blind, _ = regression_probe(nn.MSELoss(), 0.1, 0.1, 0.3, learned=False)
    assert fitted.label_noise is not None and blind.label_noise is not None
    assert fitted.label_noise.residual_share is not None
    assert blind.label_noise.residual_share is not None
    assert fitted.label_noise.residual_share < 0.1
    assert 0.8 < blind.label_noise.residual_share < 1.25


def test_a_split_that_is_only_easier_has_no_wrong_regression_targets():
    # Validation targets closer to the model than training's (residuals of 0.1 vs 0.3) move
    # the whole distribution, not a minority: neither split has many gross residuals.
    report, _ = regression_probe(nn.MSELoss(), 0.3, 0.1, 0.0)
    noise = report.label_noise
    assert noise is not None and noise.measure == "gross_residual"
    assert noise.train_confident_wrong < 0.01 and noise.val_confident_wrong < 0.01


def classification_probe(flipped: float, sharpness: float) -> tuple[ProbeReport, np.ndarray]:
    """A known two-class linear model, as confident as `sharpness` makes it, scored on labels it
    predicts except for a share `flipped` of the training labels, swapped."""
    rng = np.random.default_rng(4)
    weights = rng.normal(size=5).astype(np.float32)
    weights /= np.linalg.norm(weights)
    model = nn.Linear(5, 2)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(np.stack([-weights, weights])) * sharpness / 2)
        model.bias.zero_()
    x_train, x_val = (rng.normal(size=(n, 5)).astype(np.float32) for n in (1000, 400))
    y_train, y_val = ((x @ weights > 0).astype(np.int64) for x in (x_train, x_val))
    noisy = np.flatnonzero(rng.random(1000) < flipped)
    y_train[noisy] = 1 - y_train[noisy]
    arrays = dict(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)
    train_loader, val_loader = loaders(arrays)
    return probe(model, train_loader, val_loader, permutations=50), noisy


def test_heavy_label_noise_in_two_classes_is_found_where_the_model_is_not_confident():
    # 30% of the training labels swapped, and a model as unsure as one trained on them (its
    # logit is 1.5 x the signed distance to the boundary). It gives a swapped label 0.1 or less
    # on few samples, but at most a third of the class it predicts on about half of them:
    # rejected. Validation's labels are all the model's own.
    report, noisy = classification_probe(0.3, 1.5)
    noise = report.label_noise
    assert noise is not None and noise.measure == "rejected_label"
    share = len(noisy) / 1000
    assert 0.3 * share < noise.train_confident_wrong < 0.7 * share
    assert noise.val_confident_wrong == 0.0
    assert noise.examples and set(noise.examples) <= set(noisy.tolist())


def test_a_split_of_hard_samples_with_right_labels_has_none_rejected():
    # Labels the model predicts, however close to the boundary: nothing is rejected.
    report, _ = classification_probe(0.0, 1.5)
    assert report.label_noise is not None
    assert report.label_noise.train_confident_wrong == report.label_noise.val_confident_wrong == 0
