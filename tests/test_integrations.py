"""The client's callbacks in real (short) trainings of each framework, against a live server.

Each training is small enough for a CPU in seconds; what is asserted is what a user relies on:
every epoch and step arrives once, the numbers are the framework's own, the model's dropout and
batch norm reach `config`, and the diagnosis comes back and is printed when training ends.
"""

import json
import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import httpx
import numpy as np
import pytest
import torch
from lossgap_client import Client, Tracker
from lossgap_client.introspect import model_config
from torch import nn

from tests.conftest import LiveServer, free_port, server_env

pytestmark = pytest.mark.slow
EPOCHS = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("integrations")
    live = LiveServer(server_env({"url": None}, tmp))
    yield live
    live.stop()


@pytest.fixture
def unused_port():
    return free_port()


@pytest.fixture
def client(server, tmp_path):
    with Client(server.url, spool_dir=tmp_path / "spool", flush_interval=0.05) as c:
        yield c


def blobs(n=512, features=8, seed=0):
    """Two overlapping Gaussian classes: learnable, never perfectly."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, features)) + 0.8 * y[:, None]
    return x.astype("float32"), y.astype("int64")


def mlp(features=8):
    return nn.Sequential(
        nn.Linear(features, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2)
    )


def stored(server, run_id):
    return httpx.get(f"{server.url}/v1/runs/{run_id}", timeout=30).json()


def find_run(server, name):
    runs = httpx.get(f"{server.url}/v1/runs", params={"name": name}, timeout=30).json()
    (match,) = [r for r in runs["items"] if r["name"] == name]
    return stored(server, match["id"])


def assert_reported(run, steps_per_epoch, capsys=None):
    epochs, steps = run["epochs"], run["steps"]
    assert [e["epoch"] for e in epochs] == list(range(1, EPOCHS + 1))
    assert all(math.isfinite(e["train_loss"]) and math.isfinite(e["val_loss"]) for e in epochs)
    assert len(steps) == EPOCHS * steps_per_epoch
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    fractions = [s["epoch"] for s in steps]
    assert fractions == sorted(fractions) and fractions[-1] == EPOCHS
    assert run["config"]["dropout"] == 0.5 and run["config"]["batch_norm"] is True
    if capsys is not None:
        printed = capsys.readouterr().out
        assert "lossgap:" in printed


def test_the_parameters_recorded_are_those_training_can_move():
    # The server weighs `parameters` against `train_size` for whether the model had room to fit
    # its training set: a frozen layer gives it none.
    model = mlp()
    everything = sum(p.numel() for p in model.parameters())
    assert model_config(model)["parameters"] == everything == 8 * 32 + 32 + 2 * 32 + 32 * 2 + 2
    model[0].requires_grad_(False)
    assert model_config(model)["parameters"] == everything - (8 * 32 + 32)


def test_plain_loop_tracker_reports_steps_epochs_and_prints_the_diagnosis(server, client, capsys):
    torch.manual_seed(0)
    x, y = (torch.from_numpy(a) for a in blobs())
    model, batch = mlp(), 64
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    tracker = Tracker("plain-loop", client=client, model=model, task="classification")
    for _ in range(EPOCHS):
        model.train()
        for i in range(0, 384, batch):
            loss = nn.functional.cross_entropy(model(x[i : i + batch]), y[i : i + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            tracker.step(loss)
        model.eval()
        with torch.no_grad():
            val = nn.functional.cross_entropy(model(x[384:]), y[384:])
        tracker.epoch(val_loss=val)
    diagnosis = tracker.finish()
    assert diagnosis is not None and diagnosis["status"] == "complete"
    run = stored(server, tracker.id)
    assert_reported(run, 384 // batch, capsys)
    steps = run["steps"][:6]
    assert run["epochs"][0]["train_loss"] == pytest.approx(sum(s["train_loss"] for s in steps) / 6)
    assert run["task"] == "classification" and run["config"]["parameters"] > 0


def test_keras3_callback_on_the_torch_backend(server, client, capsys):
    import keras
    from lossgap_client.keras import LossgapCallback

    keras.utils.set_random_seed(0)
    x, y = blobs()
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(32, kernel_regularizer=keras.regularizers.L2(1e-4)),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        metrics=["accuracy"],
    )
    callback = LossgapCallback("keras-fit", client=client, task="classification")
    history = model.fit(
        x[:384],
        keras.utils.to_categorical(y[:384], 2),
        validation_data=(x[384:], keras.utils.to_categorical(y[384:], 2)),
        batch_size=64,
        epochs=EPOCHS,
        verbose=0,
        callbacks=[callback],
    )
    assert callback.diagnosis is not None
    run = find_run(server, "keras-fit")
    assert_reported(run, 6, capsys)
    logged = history.history
    for i, row in enumerate(run["epochs"]):
        assert row["train_loss"] == pytest.approx(logged["loss"][i], rel=1e-5)
        assert row["val_loss"] == pytest.approx(logged["val_loss"][i], rel=1e-5)
        assert row["val_accuracy"] == pytest.approx(logged["val_accuracy"][i], rel=1e-5)
        batches = [s["train_loss"] for s in run["steps"][i * 6 : (i + 1) * 6]]
        assert sum(batches) / 6 == pytest.approx(row["train_loss"], rel=1e-4)  # de-averaged
    assert run["config"]["label_smoothing"] == pytest.approx(0.1)
    assert run["config"]["l2_in_loss"] is True and run["config"]["loss"] == "cross_entropy"
    assert run["config"]["learning_rate"] == pytest.approx(0.01)


def test_lightning_callback(server, client, capsys):
    import lightning.pytorch as pl
    from lossgap_client.lightning import LossgapCallback

    class Module(pl.LightningModule):
        def __init__(self, lr=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.net = mlp()

        def training_step(self, batch, _):
            loss = nn.functional.cross_entropy(self.net(batch[0]), batch[1])
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, _):
            logits = self.net(batch[0])
            self.log("val_loss", nn.functional.cross_entropy(logits, batch[1]))
            self.log("val_acc", (logits.argmax(1) == batch[1]).float().mean())

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    pl.seed_everything(0)
    x, y = (torch.from_numpy(a) for a in blobs())
    data = torch.utils.data.TensorDataset(x, y)
    train = torch.utils.data.DataLoader(torch.utils.data.Subset(data, range(384)), batch_size=64)
    val = torch.utils.data.DataLoader(torch.utils.data.Subset(data, range(384, 512)), 64)
    callback = LossgapCallback("lightning-fit", client=client, task="classification")
    trainer = pl.Trainer(
        max_epochs=EPOCHS,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(Module(), train, val)
    assert callback.diagnosis is not None
    run = find_run(server, "lightning-fit")
    assert_reported(run, 6, capsys)
    for i, row in enumerate(run["epochs"]):  # the module's logged epoch mean is the train loss
        batches = [s["train_loss"] for s in run["steps"][i * 6 : (i + 1) * 6]]
        assert sum(batches) / 6 == pytest.approx(row["train_loss"], rel=1e-5)
        assert 0 <= row["val_acc"] <= 1
    config = run["config"]
    assert config["lr"] == 0.01 and config["batch_size"] == 64 and config["train_size"] == 384
    final_val = trainer.callback_metrics["val_loss"].item()
    assert run["epochs"][-1]["val_loss"] == pytest.approx(final_val, rel=1e-6)


def test_hugging_face_trainer_callback(server, client, capsys, tmp_path):
    from lossgap_client.transformers import LossgapCallback
    from transformers import Trainer, TrainingArguments

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def forward(self, features, labels=None):
            logits = self.net(features)
            if labels is None:
                return {"logits": logits}
            return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}

    class Rows(torch.utils.data.Dataset):
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"features": torch.from_numpy(self.x[i]), "labels": int(self.y[i])}

    x, y = blobs()
    args = TrainingArguments(
        output_dir=str(tmp_path / "hf"),
        num_train_epochs=EPOCHS,
        per_device_train_batch_size=64,
        per_device_eval_batch_size=64,
        learning_rate=0.01,
        warmup_steps=3,
        logging_steps=1,
        eval_strategy="epoch",
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    callback = LossgapCallback("hf-trainer", client=client, task="classification")
    trainer = Trainer(
        model=Classifier(),
        args=args,
        train_dataset=Rows(x[:384], y[:384]),
        eval_dataset=Rows(x[384:], y[384:]),
        callbacks=[callback],
    )
    trainer.train()
    assert callback.diagnosis is not None
    run = find_run(server, "hf-trainer")
    assert_reported(run, 6, capsys)
    history = trainer.state.log_history
    eval_losses = [h["eval_loss"] for h in history if "eval_loss" in h]
    assert [r["val_loss"] for r in run["epochs"]] == pytest.approx(eval_losses)
    train_losses = [h["loss"] for h in history if "loss" in h]
    assert [s["train_loss"] for s in run["steps"]] == pytest.approx(train_losses)
    assert run["config"]["batch_size"] == 64 and run["config"]["learning_rate"] == 0.01
    assert run["config"]["lr_schedule"] == "linear" and run["config"]["warmup_steps"] == 3


def test_a_server_that_is_down_never_stops_training(tmp_path, capsys, unused_port):
    import keras
    from lossgap_client.keras import LossgapCallback

    spool = tmp_path / "spool"
    x, y = blobs()
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dropout(0.5), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    down = Client(f"http://127.0.0.1:{unused_port}", spool_dir=spool, max_backoff=0.1)
    callback = LossgapCallback("offline", client=down)
    try:
        model.fit(
            x[:384],
            y[:384],
            validation_data=(x[384:], y[384:]),
            batch_size=64,
            epochs=EPOCHS,
            verbose=0,
            callbacks=[callback],
        )
    finally:
        down.close(timeout=0.5)
    assert callback.diagnosis is None
    assert "could not be reached" in capsys.readouterr().out
    (document,) = [json.loads(p.read_text()) for p in spool.glob("*.json")]
    assert len(document["epochs"]) == EPOCHS and len(document["steps"]) == EPOCHS * 6
    assert document["create"]["name"] == "offline"
