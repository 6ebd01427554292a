"""Uploads are checked before anything is stored: one clear 4xx per defect, nothing unpickled."""

import io
import pickle
import zipfile

import numpy as np
import pytest
import torch

from tests.conftest import post_json
from tests.planted import npz_bytes, script_bytes

HISTORY = {
    "name": "r",
    "task": "classification",
    "config": {"num_classes": 3, "batch_size": 8},
    "epochs": [{"epoch": 1, "train_loss": 1.0, "val_loss": 0.9}],
}


def arrays(n_train=40, n_val=10, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.normal(size=(n_train, d)).astype(np.float32),
        "y_train": rng.integers(0, classes, n_train),
        "x_val": rng.normal(size=(n_val, d)).astype(np.float32),
        "y_val": rng.integers(0, classes, n_val),
    }


@pytest.fixture
def run_id(client):
    return post_json(client, "/v1/runs", HISTORY).json()["id"]


def upload(client, run_id, kind, content, filename="f.bin"):
    return client.post(
        f"/v1/runs/{run_id}/artifacts",
        data={"kind": kind},
        files={"file": (filename, content, "application/octet-stream")},
    )


def stored(client, run_id):
    return client.get(f"/v1/runs/{run_id}/artifacts").json()


def assert_refused(response, status, code, *words):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"]


def test_a_scripted_model_and_npz_data_are_stored_with_their_shapes(client, run_id):
    model = torch.nn.Sequential(torch.nn.Linear(5, 3))
    m = upload(client, run_id, "model", script_bytes(model), "model.pt")
    d = upload(client, run_id, "data", npz_bytes(**arrays()), "data.npz")
    assert m.status_code == 201 and d.status_code == 201, (m.text, d.text)
    meta = d.json()["meta"]
    assert meta["arrays"]["x_train"] == {"shape": [40, 5], "dtype": "<f4"}
    assert meta["task"] == "classification" and meta["num_classes"] == 3
    listed = stored(client, run_id)
    assert [a["kind"] for a in listed] == ["model", "data"]
    assert listed[1]["sha256"] == d.json()["sha256"] and listed[1]["size_bytes"] > 0


def test_safetensors_data_is_accepted(client, run_id):
    from safetensors.numpy import save

    response = upload(client, run_id, "data", save(arrays()), "data.safetensors")
    assert response.status_code == 201, response.text
    assert response.json()["meta"]["format"] == "safetensors"


def test_a_pickle_is_refused_and_never_loaded(client, run_id, tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for kind in ("model", "data"):
        response = upload(client, run_id, kind, pickle.dumps(Exploit()))
        assert_refused(response, 422, "unsafe_artifact", "pickle")
    assert not marker.exists()
    assert stored(client, run_id) == []


def test_a_torch_save_archive_is_refused_as_unsafe(client, run_id):
    buffer = io.BytesIO()
    torch.save(torch.nn.Linear(5, 3), buffer)
    response = upload(client, run_id, "model", buffer.getvalue())
    assert_refused(response, 422, "unsafe_artifact", "torch.save", "torch.jit.script")


def test_object_arrays_in_an_npz_are_refused(client, run_id):
    data = arrays()
    buffer = io.BytesIO()
    np.savez(buffer, **{**data, "y_val": np.array([{"a": 1}] * 10, dtype=object)})
    assert_refused(upload(client, run_id, "data", buffer.getvalue()), 422, "unsafe_artifact")


def test_a_zip_bomb_is_refused_before_it_expands(client, run_id):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f4", "fortran_order": False, "shape": (50_000_000,)}
        )
        with archive.open("x_train.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(1024 * 1024)
            for _ in range(200):  # 200 MB of zeros, about 200 KB compressed
                member.write(zeros)
    packed = buffer.getvalue()
    assert len(packed) < 1024 * 1024
    response = upload(client, run_id, "data", packed)
    assert_refused(response, 413, "too_large", "decompression bomb")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"y_train": np.zeros(39, dtype=np.int64)}, ["x_train has shape (40, 5)", "(39,)"]),
        ({"x_val": np.zeros((10, 6), dtype=np.float32)}, ["same input shape"]),
        ({"y_val": np.full(10, 7)}, ["Labels out of range", "class id 7", "num_classes=3"]),
        ({"y_train": np.full(40, -1)}, ["class id -1"]),
        ({"y_train": np.zeros(40, dtype=np.float32)}, ["integer class ids"]),
        ({"x_train_raw": np.zeros((40, 4), dtype=np.float32)}, ["x_train_raw has shape"]),
    ],
)
def test_defective_data_is_refused_with_what_to_fix(client, run_id, change, words):
    response = upload(client, run_id, "data", npz_bytes(**{**arrays(), **change}))
    assert_refused(response, 422, "invalid_artifact", *words)
    assert stored(client, run_id) == []


def test_missing_arrays_are_named(client, run_id):
    data = arrays()
    del data["y_val"]
    assert_refused(
        upload(client, run_id, "data", npz_bytes(**data)), 422, "invalid_artifact", "y_val"
    )


def test_files_that_are_neither_format_are_refused(client, run_id):
    assert_refused(upload(client, run_id, "data", b"epoch,loss\n1,2\n"), 422, "invalid_artifact")
    assert_refused(upload(client, run_id, "model", b"not a model"), 422, "invalid_artifact")
    truncated = script_bytes(torch.nn.Sequential(torch.nn.Linear(5, 3)))[:300]
    assert_refused(upload(client, run_id, "model", truncated), 422, "invalid_artifact")


def test_an_unknown_kind_or_run_is_a_clear_error(client, run_id):
    response = upload(client, run_id, "weights", b"x")
    assert response.status_code == 422 and "kind" in response.json()["error"]["message"]
    assert upload(client, "no-such-run", "data", npz_bytes(**arrays())).status_code == 404


def test_uploads_over_the_limit_are_refused(client, run_id, monkeypatch):
    settings = client.app.state.settings
    monkeypatch.setattr(settings, "max_data_bytes", 1000)
    assert_refused(
        upload(client, run_id, "data", npz_bytes(**arrays())), 413, "too_large", "MAX_DATA_BYTES"
    )


def test_deleting_a_run_deletes_its_stored_files(client, run_id):
    store = client.app.state.store
    upload(client, run_id, "data", npz_bytes(**arrays()))
    key = f"runs/{run_id}/"
    stored_files = [p for p in store.root.rglob("*") if p.is_file() and key in str(p)]
    assert len(stored_files) == 1
    assert client.delete(f"/v1/runs/{run_id}").status_code == 204
    assert not stored_files[0].exists()
    assert client.get(f"/v1/runs/{run_id}/artifacts").status_code == 404
