"""Folder formats of tests/fixtures/realworld (TensorBoard log dirs, MLflow and W&B run
folders), uploaded as .zip or .tar.gz, and single files with their companion configs."""

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.test_imports import REALWORLD, best, rows


def zipped(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent))
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def tarred(*paths: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in paths:
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


def upload(client, name, content, **data):
    response = client.post("/v1/imports", files={"file": (name, content)}, data=data)
    assert response.status_code == 201, response.text
    body = response.json()
    return body, rows(client, body["id"]), client.get(f"/v1/runs/{body['id']}").json()["config"]


FOLDERS = {
    "tensorboard/lightning-fashion-mnist-v0": (
        "tensorboard",
        25,
        lambda e, c: (
            round(e[0]["val_loss"], 3) == 0.467
            and round(e[-1]["val_loss"], 2) == 0.32
            and 0.26 <= e[-1]["train_loss"] <= 0.35
        ),
    ),
    "tensorboard/lightning-mnist-tiny": (
        "tensorboard",
        5,
        lambda e, c: (
            best(e) == (pytest.approx(0.048, abs=1e-3), 4)
            and round(e[-1]["val_loss"], 3) == 0.057
            and round(e[0]["train_loss"], 3) == 0.146
            and round(e[-1]["train_loss"], 2) == 0.02
            and "hp_metric" not in e[0]
        ),
    ),
    "tensorboard/yolov8-fire-smoke": (
        "tensorboard",
        25,
        lambda e, c: round(e[0]["val_loss"], 1) == 8.5 and round(e[-1]["val_loss"], 1) == 4.7,
    ),
    "mlflow/skorch-cbam-resnet20": (
        "mlflow_run",
        182,
        lambda e, c: (
            best(e) == (pytest.approx(0.298, abs=1e-3), 50)
            and round(e[-1]["val_loss"], 2) == 0.42
            and round(e[-1]["train_loss"], 3) == 0.036
            and c["batch_size"] == 128
            and c["learning_rate"] == 0.005
        ),
    ),
    "mlflow/skorch-earlystop": (
        "mlflow_run",
        121,
        lambda e, c: (
            round(e[0]["val_loss"], 2) == 2.69
            and round(e[0]["train_loss"], 2) == 4.35
            and best(e) == (pytest.approx(0.337, abs=1e-3), 94)
            and round(e[-1]["val_loss"], 3) == 0.385
        ),
    ),
    "mlflow/ultralytics-yolov8s": (
        "mlflow_run",
        100,
        lambda e, c: (
            round(e[0]["train_loss"], 1) == 7.1
            and round(e[-1]["train_loss"], 2) == 1.56
            and all(4.5 <= r["val_loss"] <= 5.2 for r in e[25:])
            and c["batch_size"] == 16
        ),
    ),
    "wandb/benoxi-run-20200228_173521-6lp07cge": (
        "wandb_history",
        3,
        lambda e, c: c == {"batch_size": 100, "learning_rate": 0.001},
    ),
    "wandb/benoxi-run-20200228_174009-z6hhs4tz": (
        "wandb_history",
        680,
        lambda e, c: c["batch_size"] == 100,
    ),
}


def test_every_folder_of_the_corpus_is_covered():
    folders = {
        f"{kind}/{p.name}"
        for kind in ("tensorboard", "mlflow", "wandb")
        for p in (REALWORLD / kind).iterdir()
        if p.is_dir()
    }
    assert folders == set(FOLDERS)


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_a_zipped_run_folder_imports_with_its_manifest_series(client, name):
    fmt, count, check = FOLDERS[name]
    folder = REALWORLD / name
    body, epochs, config = upload(client, f"{folder.name}.zip", zipped(folder))
    assert body["format"] == fmt and body["epoch_count"] == count
    assert check(epochs, config), (epochs[:2], config)


def test_tensorboard_and_csv_of_one_ultralytics_run_agree(client):
    _, from_events, _ = upload(
        client, "tb.zip", zipped(REALWORLD / "tensorboard/yolov8-fire-smoke")
    )
    csv = REALWORLD / "ultralytics_results/fire-smoke-yolov8-old.results.csv"
    _, from_csv, _ = upload(client, csv.name, csv.read_bytes())
    assert [r["epoch"] for r in from_events] == [r["epoch"] for r in from_csv]
    for a, b in zip(from_events, from_csv, strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)


def test_a_single_event_file_and_a_tarball_import(client):
    event = next((REALWORLD / "tensorboard/lightning-mnist-tiny").glob("events*"))
    body, _, _ = upload(client, event.name, event.read_bytes())
    assert body["format"] == "tensorboard" and body["epoch_count"] == 5
    lightning = REALWORLD / "lightning_csv"
    body, _, config = upload(
        client,
        "run.tar.gz",
        tarred(
            lightning / "erav2-resnet-cifar.metrics.csv",
            lightning / "erav2-resnet-cifar.hparams.yaml",
        ),
    )
    assert body["format"] == "lightning_csv" and body["epoch_count"] == 35
    assert config == {"batch_size": 512, "learning_rate": 0.002}
    assert any("hparams.yaml" in note for note in body["notes"])


def test_hostile_archives_are_refused(client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.csv", "epoch,train_loss,val_loss\n1,1,1\n")
    response = client.post("/v1/imports", files={"file": ("evil.zip", buffer.getvalue())})
    assert response.status_code == 422
    assert "0 files" in response.json()["error"]["message"]
    assert not (Path.cwd().parent / "escape.csv").exists()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.csv", b"0" * (64 * 1024 * 1024))
    settings = client.app.state.settings
    original = settings.max_data_unpacked_bytes
    settings.max_data_unpacked_bytes = 1024 * 1024
    try:
        response = client.post("/v1/imports", files={"file": ("bomb.zip", buffer.getvalue())})
    finally:
        settings.max_data_unpacked_bytes = original
    assert response.status_code == 422
    assert "MAX_DATA_UNPACKED_BYTES" in response.json()["error"]["message"]


def keras_logdir(root: Path, history: dict[str, list[float]]) -> Path:
    """What Keras' TensorBoard callback writes: logs/train and logs/validation event files, each
    with `epoch_<metric>` scalar tensors at step = epoch index (from 0)."""
    import numpy as np
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    logdir = root / "logs"
    for split, prefix in (("train", ""), ("validation", "val_")):
        writer = EventFileWriter(str(logdir / split))
        for name, values in history.items():
            if not name.startswith(prefix) or (not prefix and name.startswith("val_")):
                continue
            tag = "epoch_" + name.removeprefix(prefix)
            for epoch, value in enumerate(values):
                tensor = tensor_util.make_tensor_proto(np.float32(value))
                summary = summary_pb2.Summary(
                    value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor)]
                )
                writer.add_event(event_pb2.Event(step=epoch, summary=summary))
        writer.close()
    return logdir


def test_keras_tensorboard_logs_read_as_its_history(client, tmp_path):
    history = {
        "loss": [1.2, 0.8, 0.6, 0.5],
        "accuracy": [0.5, 0.7, 0.8, 0.85],
        "val_loss": [1.0, 0.9, 0.95, 1.1],
        "val_accuracy": [0.6, 0.65, 0.66, 0.64],
        "learning_rate": [0.001] * 4,
    }
    body, epochs, _ = upload(client, "logs.zip", zipped(keras_logdir(tmp_path, history)))
    assert body["format"] == "tensorboard" and body["epoch_count"] == 4
    assert body["mapping"]["train_loss"] == "loss" and body["mapping"]["val_loss"] == "val_loss"
    assert [r["epoch"] for r in epochs] == [1, 2, 3, 4]
    for row, train, val in zip(epochs, history["loss"], history["val_loss"], strict=True):
        assert row["train_loss"] == pytest.approx(train) and row["val_loss"] == pytest.approx(val)
    assert [r["val_accuracy"] for r in epochs] == pytest.approx(history["val_accuracy"])
