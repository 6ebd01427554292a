"""The diagnosis on real logs: `tests/fixtures/realworld/` as a second validation set.

    python bench/realworld.py

The scenario suite is synthetic; these are runs public projects logged. Their MANIFEST describes
each curve in words, and only what it states plainly is scored here (the phrase is quoted beside
each label; runs it describes ambiguously are diagnosed and printed but not scored):

- `overfitting`: the MANIFEST says the run overfits (validation rises or stalls while training
  falls); scored as overfitting ranked first.
- `healthy`: it describes no problem (curves that track, a small stable gap, validation below
  training from regularization or lag); scored as no problem cause at confidence >= 0.5.
- `not_overfitting`: it says the validation swings are *not* overfitting; scored as overfitting
  below 0.5.

Nothing is fitted on these runs; the model is fitted on the suite only.
"""

import io
import sys
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.analysis import diagnose
from app.analysis.catalog import BY_ID
from app.analysis.document import history_from_document
from app.imports import detect

REALWORLD = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "realworld"

LABELS: dict[str, tuple[str, str]] = {
    "hf_trainer_state/whisper-small-hi.trainer_state.json": ("overfitting", "classic overfit"),
    "hf_trainer_state/finnews-sentiment-ckpt10350.trainer_state.json": (
        "overfitting",
        "eval_loss minimum at epoch 3 (1.326) then rises to ~1.49 while train loss keeps falling",
    ),
    "hf_trainer_state/multi-evalset.trainer_state.json": ("overfitting", "heavy overfit"),
    "keras_csvlogger/speaker250.training.log": ("overfitting", "overfit from the first epoch"),
    "keras_csvlogger/car-cnn.training.log": (
        "overfitting",
        "val_loss bottoms at 0.717 (epoch 42) and hovers ~0.73-0.78 while train falls to ~0.29: "
        "growing gap",
    ),
    "keras_history_json/cat-dog-pandas.history.csv": ("overfitting", "overfit"),
    "ultralytics_results/dental-yolov8-new.results.csv": ("overfitting", "overfit"),
    "fastai_csvlogger/cmr-seg-append.history.csv": (
        "overfitting",
        "slow overfit across fine-tuning stages",
    ),
    "mlflow/skorch-cbam-resnet20": ("overfitting", "overfit after epoch ~50"),
    "mlflow/ultralytics-yolov8s": (
        "overfitting",
        "summed val loss plateaus ~4.6-5.0 from epoch 25 while train falls 7.1 -> 1.56: "
        "widening gap",
    ),
    "plain_logs/transformer-zh.training_log.txt": (
        "overfitting",
        "train 4.61 -> 4.37 while val flat ~5.96-6.01: large, widening gap",
    ),
    "hf_trainer_state/canine-mlm.trainer_state.json": (
        "healthy",
        "eval_loss below train loss throughout",
    ),
    "keras_csvlogger/brats-unet.training.log": ("healthy", "both flat after LR decays"),
    "keras_history_json/vgg16-transfer.model_history.json": (
        "healthy",
        "val_loss below train loss in 92 of 100 epochs, both flat and noisy",
    ),
    "lightning_csv/fashion-mnist-old-pl.metrics.csv": ("healthy", "val_loss 0.484 -> 0.395"),
    "lightning_csv/mnist-cnn.metrics.csv": ("healthy", "val_loss once per epoch 0.071 -> 0.039"),
    "tensorboard/lightning-fashion-mnist-v0": ("healthy", "small, stable gap"),
    "wandb/benoxi-run-20200228_173521-6lp07cge": ("healthy", "val tracks train closely"),
    "wandb/benoxi-run-20200228_174009-z6hhs4tz": (
        "healthy",
        "val slightly above train (0.169 vs 0.159 at the end)",
    ),
    "plain_logs/detr-finetune.train.log": (
        "healthy",
        "val_loss below train loss for epochs 0-5, best 1.170 at epoch 5",
    ),
    "fastai_csvlogger/retinopathy-v1.history.csv": (
        "not_overfitting",
        "unstable eval (BatchNorm/outlier batches), not overfitting",
    ),
    "plain_logs/keras-fit-stdout.training_log.txt": (
        "not_overfitting",
        "unstable validation (BatchNorm) rather than overfit",
    ),
}


def inputs() -> list[tuple[str, str, bytes]]:
    """(name, file name, bytes) of every run; folders zipped as a user uploads them."""
    found = []
    for path in sorted(REALWORLD.rglob("*")):
        parts = path.relative_to(REALWORLD).parts
        folder = parts[0] in ("mlflow", "tensorboard", "wandb")
        skipped = path.suffix in (".yaml", ".md") or path.name == "wandb-summary.json"
        if path.is_file() and not folder and not skipped:
            found.append(("/".join(parts), path.name, path.read_bytes()))
    for folder in sorted(REALWORLD.glob("*/*")):
        if folder.is_dir():
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for path in folder.rglob("*"):
                    if path.is_file():
                        archive.write(path, path.relative_to(folder.parent))
            name = "/".join(folder.relative_to(REALWORLD).parts)
            found.append((name, f"{folder.name}.zip", buffer.getvalue()))
    return found


def diagnosed(filename: str, content: bytes) -> dict[str, Any]:
    document = detect.parse(content, filename, None, None).document(filename)
    return diagnose(history_from_document(document)).to_dict()


def score(label: str, causes: list[dict[str, Any]]) -> bool:
    top = causes[0]["id"] if causes else None
    if label == "overfitting":
        return top == "overfitting"
    if label == "healthy":
        return not [
            c for c in causes if BY_ID[c["id"]].kind == "problem" and c["confidence"] >= 0.5
        ]
    over = [c["confidence"] for c in causes if c["id"] == "overfitting"]
    return not over or over[0] < 0.5


def main() -> None:
    tally: dict[str, list[bool]] = {}
    print(f"{'run':<58} {'label':<16} {'ok':<3} causes")
    for name, filename, content in inputs():
        causes = diagnosed(filename, content)["causes"]
        shown = ", ".join(f"{c['id']} {c['confidence']:.2f}" for c in causes[:3]) or "-"
        label = LABELS.get(name, ("", ""))[0]
        ok = score(label, causes) if label else None
        if label:
            tally.setdefault(label, []).append(bool(ok))
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name[-58:]:<58} {label or '(unscored)':<16} {mark:<3} {shown}")
    print()
    for label, oks in tally.items():
        print(f"{label:<16} {sum(oks)}/{len(oks)}")
    print(
        f"{'all scored':<16} {sum(sum(v) for v in tally.values())}/{sum(map(len, tally.values()))}"
    )


if __name__ == "__main__":
    main()
