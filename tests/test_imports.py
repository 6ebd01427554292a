"""Every single-file log in tests/fixtures/realworld imports through the API with the series
its MANIFEST describes (`tests/fixtures/realworld/MANIFEST.md`): format, row counts and the
curve's shape."""

import json
import math
from pathlib import Path

import pytest

# A copy of the project's shared/realworld corpus (with its MANIFEST): the repo stands alone.
REALWORLD = Path(__file__).resolve().parent / "fixtures" / "realworld"


def rows(client, run_id):
    return client.get(f"/v1/runs/{run_id}").json()["epochs"]


def series(epochs, key):
    return [r.get(key) for r in epochs]


def finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def best(epochs):
    pairs = [(r["val_loss"], r["epoch"]) for r in epochs if r.get("val_loss") is not None]
    pairs = [p for p in pairs if math.isfinite(p[0])]
    return min(pairs)


def below(epochs):
    """Epochs where validation loss is below training loss."""
    return sum(
        1
        for r in epochs
        if r.get("val_loss") is not None
        and r.get("train_loss") is not None
        and r["val_loss"] < r["train_loss"]
    )


# file -> (format, epoch rows, step rows, check of the MANIFEST's description)
CASES = {
    "hf_trainer_state/whisper-small-hi.trainer_state.json": (
        "hf_trainer_state",
        5,
        200,
        lambda e: (
            round(e[0]["val_loss"], 2) == 0.31
            and round(e[-1]["val_loss"], 2) == 0.47
            and series(e, "val_loss") == sorted(series(e, "val_loss"))
            and e[-1]["train_loss"] < 0.001
        ),
    ),
    "hf_trainer_state/canine-mlm.trainer_state.json": (
        "hf_trainer_state",
        4,
        8,
        lambda e: below(e) == len(e),
    ),
    "hf_trainer_state/finnews-sentiment-ckpt10350.trainer_state.json": (
        "hf_trainer_state",
        10,
        None,
        lambda e: (
            best(e)[1] == 3
            and round(best(e)[0], 3) == 1.326
            and round(e[-1]["train_loss"], 2) == 1.16
        ),
    ),
    "hf_trainer_state/telugu-translation.trainer_state.json": (
        "hf_trainer_state",
        5,
        None,
        lambda e: (
            e[0]["val_loss"] < e[0]["train_loss"]
            and e[1]["val_loss"] < e[1]["train_loss"]
            and e[-1]["train_loss"] < e[-1]["val_loss"]
        ),
    ),
    "hf_trainer_state/multi-evalset.trainer_state.json": (
        "hf_trainer_state",
        31,  # 30 epochs and the evaluation before training
        None,
        lambda e: (
            e[0]["epoch"] == 0
            and "train_loss" not in e[0]
            and all(f"val_g{g}_loss" in e[-1] for g in range(1, 6))
            and e[-1]["train_loss"] < 0.06
            and e[-1]["val_loss"] > e[2]["val_loss"]
        ),
    ),
    "hf_trainer_state/tinyllama-sft.trainer_state.json": (
        "hf_trainer_state",
        None,
        None,
        lambda e: round(e[0]["val_loss"], 2) == 1.62 and round(e[-1]["val_loss"], 2) == 1.12,
    ),
    "keras_csvlogger/car-cnn.training.log": (
        "keras_csv",
        100,
        0,
        lambda e: best(e) == pytest.approx((0.717, 43), abs=1e-3),
    ),
    "keras_csvlogger/speaker250.training.log": (
        "keras_csv",
        50,
        0,
        lambda e: (
            best(e)[1] == 1
            and round(e[-1]["train_loss"], 2) == 1.66
            and round(e[-1]["val_loss"], 1) == 5.5
            and "val_accuracy" in e[0]
        ),
    ),
    "keras_csvlogger/brats-unet.training.log": (
        "keras_csv",
        24,
        0,
        lambda e: (
            round(e[-1]["val_loss"], 4) == 0.0345
            and round(e[-1]["train_loss"], 4) == 0.0258
            and e[-1]["lr"] == pytest.approx(1e-6)
            and "val_dice_coef" in e[-1]
        ),
    ),
    "keras_history_json/vgg16-transfer.model_history.json": (
        "keras_history_json",
        100,
        0,
        lambda e: below(e) == 92,
    ),
    "keras_history_json/fashion-mnist.model_history.json": (
        "keras_history_json",
        30,
        0,
        lambda e: round(e[0]["val_loss"], 2) == 0.32 and round(e[0]["train_loss"], 2) == 0.48,
    ),
    "keras_history_json/cat-dog-pandas.history.csv": (
        "keras_csv",
        10,
        0,
        lambda e: best(e)[1] == 6 and round(best(e)[0], 3) == 0.528,
    ),
    "lightning_csv/erav2-resnet-cifar.metrics.csv": (
        "lightning_csv",
        35,
        55,
        lambda e: (
            round(e[-1]["val_loss"], 2) == 0.40
            and round(e[-1]["train_loss"], 3) == 0.048
            and max(series(e, "val_loss")) == pytest.approx(2.11, abs=0.01)
        ),
    ),
    "lightning_csv/mnist-cnn.metrics.csv": (
        "lightning_csv",
        5,
        None,
        lambda e: (
            round(e[0]["val_loss"], 3) == 0.071
            and round(e[-1]["val_loss"], 3) == 0.039
            and "test_loss" not in e[-1]
        ),
    ),
    "lightning_csv/fashion-mnist-old-pl.metrics.csv": (
        "lightning_csv",
        5,
        None,
        lambda e: round(e[0]["val_loss"], 3) == 0.484 and round(e[-1]["val_loss"], 3) == 0.395,
    ),
    "ultralytics_results/fire-smoke-yolov8-old.results.csv": (
        "ultralytics_csv",
        25,
        0,
        lambda e: (
            round(e[0]["val_loss"], 1) == 8.5
            and round(e[-1]["val_loss"], 1) == 4.7
            and round(e[0]["train_loss"], 1) == 7.2
            and round(e[-1]["train_loss"], 1) == 3.2
        ),
    ),
    "ultralytics_results/dental-yolov8-new.results.csv": (
        "ultralytics_csv",
        55,
        0,
        lambda e: (
            e[0]["epoch"] == 1
            and round(e[0]["val/cls_loss"], 1) == 9.4
            and 30 <= best(e)[1] <= 40
            and e[-1]["val_loss"] > best(e)[0] + 0.5
        ),
    ),
    "ultralytics_results/lego-yolov5.results.csv": (
        "ultralytics_csv",
        50,
        0,
        lambda e: below(e) == 50,
    ),
    "ultralytics_results/helmet-yolov5-exp2.results.csv": (
        "ultralytics_csv",
        150,
        0,
        lambda e: (
            set(series(e, "train/cls_loss")) == {0.0}
            and e[0]["val_loss"] < e[0]["train_loss"]
            and e[-1]["val_loss"] > e[-1]["train_loss"]
        ),
    ),
    "fastai_csvlogger/cmr-seg-append.history.csv": (
        "fastai_csv",
        None,
        0,
        lambda e: round(best(e)[0], 4) == 0.0084 and e[-1]["val_loss"] > 0.011,
    ),
    "fastai_csvlogger/retinopathy-v1.history.csv": (
        "fastai_csv",
        None,
        0,
        lambda e: (
            round(max(finite(series(e, "val_loss"))), 1) == 646.6
            and sum(1 for v in series(e, "val_loss") if v is None) == 2
        ),
    ),
    "fastai_csvlogger/moodsic-nan.history.csv": (
        "fastai_csv",
        1,
        0,
        lambda e: math.isnan(e[0]["val_loss"]) and round(e[0]["train_loss"], 3) == 0.324,
    ),
    "wandb/benoxi-run-20200228_173521-6lp07cge/wandb-history.jsonl": (
        "wandb_history",
        3,
        675,
        lambda e: abs(e[-1]["val_loss"] - e[-1]["train_loss"]) < 0.01,
    ),
    "wandb/benoxi-run-20200228_174009-z6hhs4tz/wandb-history.jsonl": (
        "wandb_history",
        680,
        680,
        lambda e: e[0]["train_loss"] == 0.163 and e[0]["val_loss"] == 0.2035,
    ),
    "plain_logs/detr-finetune.train.log": (
        "plain_log",
        8,
        0,
        lambda e: (
            best(e) == (pytest.approx(1.1703, abs=1e-4), 6)
            and e[0]["val_loss"] < e[0]["train_loss"]
            and e[-1]["val_loss"] > e[-1]["train_loss"]
        ),
    ),
    "plain_logs/transformer-zh.training_log.txt": (
        "plain_log",
        15,
        0,
        lambda e: (
            [r["epoch"] for r in e] == list(range(16, 31))
            and round(e[0]["train_loss"], 2) == 4.61
            and round(e[-1]["train_loss"], 2) == 4.37
            and all(5.9 < v < 6.02 for v in series(e, "val_loss"))
        ),
    ),
    "plain_logs/keras-fit-stdout.training_log.txt": (
        "plain_log",
        26,
        0,
        lambda e: [round(e[i - 1]["val_loss"], 2) for i in (5, 9, 10)] == [3.31, 7.33, 9.38],
    ),
}


def test_every_single_file_log_of_the_corpus_is_covered():
    listed = {
        line.split("`")[1]
        for line in (REALWORLD / "MANIFEST.md").read_text().splitlines()
        if line.startswith("| `") and "/" in line.split("`")[1].rstrip("/")
    }
    single_files = {
        name
        for name in listed
        if not name.startswith(("mlflow/", "tensorboard/"))
        and not name.endswith((".yaml", "wandb-summary.json", "/"))
    }
    assert single_files == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_realworld_file_imports_with_its_manifest_series(client, name):
    fmt, epoch_count, step_count, check = CASES[name]
    path = REALWORLD / name
    response = client.post("/v1/imports", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["format"] == fmt
    assert body["name"] == path.name
    if epoch_count is not None:
        assert body["epoch_count"] == epoch_count
    if step_count is not None:
        assert body["step_count"] == step_count
    assert body["mapping"]["train_loss"] and body["mapping"]["val_loss"]
    epochs = rows(client, body["id"])
    assert check(epochs), epochs[:3]
    assert client.get(f"/v1/runs/{body['id']}/diagnosis").status_code == 200


RESUMED = {
    # Keras CSVLogger(append=True) after resuming from the checkpoint of epoch 2 (0-based 1)
    "training.log": b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,1.0\n2,0.8,nan\n1,0.85,0.97\n"
    b"2,0.75,0.93\n3,0.7,0.9\n",
    # a script's stdout, the same resume
    "train.log": b"epoch 1: train_loss=1.0, val_loss=1.1\nepoch 2: train_loss=0.9, val_loss=1.0\n"
    b"epoch 3: train_loss=0.8, val_loss=nan\nresuming from epoch 2\n"
    b"epoch 2: train_loss=0.85, val_loss=0.97\nepoch 3: train_loss=0.75, val_loss=0.93\n"
    b"epoch 4: train_loss=0.7, val_loss=0.9\n",
}


@pytest.mark.parametrize("filename", sorted(RESUMED))
def test_a_resumed_run_keeps_the_later_values_and_says_so(client, filename):
    response = client.post("/v1/imports", files={"file": (filename, RESUMED[filename])})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["epoch_count"] == 4
    assert (
        "2 epoch rows repeat an earlier epoch (a resumed run?): the later values are kept"
        in (body["notes"])
    )
    epochs = rows(client, body["id"])
    assert [r["train_loss"] for r in epochs] == [1.0, 0.85, 0.75, 0.7]
    assert [r["val_loss"] for r in epochs] == [1.1, 0.97, 0.93, 0.9]  # the NaN was replaced


def test_nan_losses_are_kept_and_reported(client):
    content = b"epoch,loss,val_loss\n0,1.0,1.1\n1,nan,1.0\n2,inf,nan\n"
    body = client.post("/v1/imports", files={"file": ("training.log", content)}).json()
    note = "a NaN or infinite loss in 2 of 3 epochs: kept, as evidence of numerical instability"
    assert note in body["notes"]
    epochs = rows(client, body["id"])
    assert math.isnan(epochs[1]["train_loss"]) and epochs[2]["train_loss"] == math.inf


def test_the_format_can_be_named_and_the_mapping_overridden(client):
    path = REALWORLD / "ultralytics_results/lego-yolov5.results.csv"
    response = client.post(
        "/v1/imports",
        files={"file": (path.name, path.read_bytes())},
        data={"format": "hf_trainer_state"},
    )
    assert response.status_code == 422
    assert "not a readable hf_trainer_state file" in response.json()["error"]["message"]
    response = client.post(
        "/v1/imports",
        files={"file": (path.name, path.read_bytes())},
        data={"format": "keras_csv", "mapping": json.dumps({"val_loss": "val/box_loss"})},
    )
    assert response.status_code == 201, response.text
    assert response.json()["mapping"]["val_loss"] == "val/box_loss"
    header, first_line = path.read_text().splitlines()[:2]
    cells = dict(zip((c.strip() for c in header.split(",")), first_line.split(","), strict=False))
    first = rows(client, response.json()["id"])[0]
    assert first["val_loss"] == float(cells["val/box_loss"]) and "val/box_loss" not in first
    plain = b"epoch,loss_a,loss_b\n1,0.9,0.8\n2,0.7,0.75\n"
    response = client.post(
        "/v1/imports",
        files={"file": ("a.csv", plain)},
        data={
            "format": "plain_csv",
            "mapping": json.dumps({"train_loss": "loss_a", "val_loss": "loss_b"}),
            "name": "renamed",
            "config": json.dumps({"batch_size": 16}),
        },
    )
    assert response.status_code == 201, response.text
    run = client.get(f"/v1/runs/{response.json()['id']}").json()
    assert run["name"] == "renamed" and run["config"] == {"batch_size": 16}
    assert [r["val_loss"] for r in run["epochs"]] == [0.8, 0.75]


@pytest.mark.parametrize(
    ("content", "data", "words"),
    [
        (b"hello world\nnothing to see\n", {}, ["could not tell the format", "plain_log"]),
        (b"PK\x03\x04rest", {}, ["not a readable archive"]),
        (b"epoch,a\n1,2\n", {"format": "nope"}, ["unknown format 'nope'"]),
        (b"epoch,train_loss,val_loss\n1,1,1\n", {"mapping": "[1]"}, ["must be a JSON object"]),
        (
            b"epoch,train_loss,val_loss\n1,1,1\n",
            {"mapping": '{"val_loss": "missing"}'},
            ["names column 'missing'"],
        ),
    ],
)
def test_unreadable_imports_say_why_and_store_nothing(client, content, data, words):
    response = client.post("/v1/imports", files={"file": ("x.log", content)}, data=data)
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    for word in words:
        assert word in message
    assert client.get("/v1/runs").json()["items"] == []
