"""Loss tables however they are written: any of the usual delimiters, the usual spellings of the
loss columns, and, for names nobody could guess, an error that lists the columns and a mapping
that imports the file when sent back as it is."""

import json

import pytest
from typer.testing import CliRunner

from app.cli import cli

TRAIN = [0.92, 0.71, 0.60, 0.52, 0.47, 0.44]
VAL = [0.95, 0.80, 0.74, 0.73, 0.75, 0.79]


def table(header: list[str], delimiter: str = ",", first_epoch: int = 1, decimal: str = ".") -> str:
    lines = [delimiter.join(header)]
    for i, (t, v) in enumerate(zip(TRAIN, VAL, strict=True)):
        cells = [str(i + first_epoch), str(t), str(v)]
        lines.append(delimiter.join(c.replace(".", decimal) for c in cells))
    return "\n".join(lines) + "\n"


def imported(client, name: str, text: str, **form: str):
    return client.post("/v1/imports", files={"file": (name, text.encode())}, data=form)


def stored_losses(client, run_id: str) -> tuple[list[float], list[float]]:
    epochs = client.get(f"/v1/runs/{run_id}").json()["epochs"]
    assert [e["epoch"] for e in epochs] == list(range(1, len(TRAIN) + 1))
    return [e["train_loss"] for e in epochs], [e["val_loss"] for e in epochs]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("long-names.csv", table(["epoch", "training_loss", "validation_loss"])),
        ("trn.csv", table(["epoch", "trn_loss", "val_loss"])),
        ("tr.csv", table(["epoch", "tr_loss", "valid_loss"])),
        ("hf-like.csv", table(["epoch", "loss", "eval_loss"])),
        ("titled.csv", table(["Epoch", "Train Loss", "Val Loss"], first_epoch=0)),
        ("tabs.tsv", table(["epoch", "train_loss", "val_loss"], "\t")),
        ("semicolons.csv", table(["epoch", "train_loss", "val_loss"], ";", decimal=",")),
        ("spaces.txt", table(["epoch", "train_loss", "val_loss"], "   ")),
        ("tensorboard-tags.csv", table(["epoch", "loss/train", "loss/val"])),
    ],
)
def test_common_tables_import_without_being_told_anything(client, name, text):
    response = imported(client, name, text)
    assert response.status_code == 201, response.text
    assert stored_losses(client, response.json()["id"]) == (TRAIN, VAL)


def test_unknown_columns_are_listed_with_a_mapping_that_imports_the_file(client):
    text = table(["it", "a_loss", "b_loss_valid"])
    refused = imported(client, "odd.csv", text)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["columns"] == ["it", "a_loss", "b_loss_valid"]
    assert "it, a_loss, b_loss_valid" in error["message"]
    assert error["mapping"] == {"epoch": "it", "train_loss": "a_loss", "val_loss": "b_loss_valid"}
    assert client.get("/v1/runs").json()["items"] == []  # a failed request stores nothing
    sent_back = imported(client, "odd.csv", text, mapping=json.dumps(error["mapping"]))
    assert sent_back.status_code == 201, sent_back.text
    assert stored_losses(client, sent_back.json()["id"]) == (TRAIN, VAL)


def test_a_mapping_works_without_a_format_and_config_with_any_format(client):
    text = table(["step_no", "x", "y"])
    config = {"dropout": 0.3, "optimizer": "adam"}
    mapping = {"epoch": "step_no", "train_loss": "x", "val_loss": "y"}
    response = imported(
        client, "t.csv", text, mapping=json.dumps(mapping), config=json.dumps(config)
    )
    assert response.status_code == 201, response.text
    assert response.json()["format"] == "plain_csv"
    assert client.get(f"/v1/runs/{response.json()['id']}").json()["config"] == config


def test_a_mapping_naming_a_missing_column_says_which_columns_exist(client):
    bad = imported(client, "t.csv", table(["epoch", "x", "y"]), mapping='{"train_loss": "z"}')
    assert bad.status_code == 422
    assert "'z'" in bad.json()["error"]["message"] and "x, y" in bad.json()["error"]["message"]


def test_an_explicit_format_reads_other_delimiters(client):
    response = imported(
        client, "t.tsv", table(["epoch", "train_loss", "val_loss"], "\t"), format="plain_csv"
    )
    assert response.status_code == 201, response.text
    assert "columns separated by tab" in response.json()["notes"]


runner = CliRunner(env={"COLUMNS": "1000"})  # rich wraps error panels at the terminal width


def test_the_cli_takes_mapping_and_config_and_says_what_the_api_says(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(table(["it", "a", "b"]))
    refused = runner.invoke(cli, ["diagnose", str(path)])
    assert refused.exit_code == 2 and "Its columns are: it, a, b" in refused.output
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"epoch": "it", "train_loss": "a", "val_loss": "b"}')
    done = runner.invoke(
        cli,
        [
            "diagnose",
            str(path),
            "--mapping",
            str(mapping),
            "--config",
            '{"dropout": 0.5}',
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"] == "complete"


def test_a_log_with_no_recognized_loss_fails_in_the_cli_as_in_the_api(client, tmp_path):
    text = "epoch,accuracy\n1,0.5\n2,0.6\n3,0.7\n"
    api = imported(client, "acc.csv", text, format="plain_csv")
    assert api.status_code == 422
    path = tmp_path / "acc.csv"
    path.write_text(text)
    local = runner.invoke(cli, ["diagnose", str(path), "--format", "plain_csv"])
    assert local.exit_code == 2
    assert "no usable history" in api.json()["error"]["message"]
    assert "no usable history" in local.output and "mapping" in local.output
