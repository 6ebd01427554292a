"""`lossgap diagnose FILE` on every real-world log: wall time per file, as a user runs it.

    python bench/diagnose_cli.py

Each file runs three times, each in a fresh `python -m app diagnose` process (imports
included, output to /dev/null); the baseline is a process that only starts Python and imports
nothing of lossgap, so the ratio shows what lossgap adds. Folders are zipped first, as a user
would upload them. Target: every file under 2 s.
"""

import io
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REALWORLD = ROOT / "tests" / "fixtures" / "realworld"


def inputs(tmp: Path) -> list[Path]:
    files = [
        p
        for p in sorted(REALWORLD.rglob("*"))
        if p.is_file()
        and not {"mlflow", "tensorboard"} & set(p.relative_to(REALWORLD).parts)
        and p.suffix not in (".yaml", ".md")
        and p.name != "wandb-summary.json"
    ]
    for folder in sorted(REALWORLD.glob("tensorboard/*")) + sorted(REALWORLD.glob("mlflow/*")):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in folder.rglob("*"):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent))
        target = tmp / f"{folder.name}.zip"
        target.write_bytes(buffer.getvalue())
        files.append(target)
    return files


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main(repeats: int = 3) -> None:
    baseline = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp:
        files = inputs(Path(tmp))
        print(f"{'file':<48} {'median s':>8} {'worst s':>8} {'x bare python':>14}")
        worst = 0.0
        for path in files:
            command = [sys.executable, "-m", "app", "diagnose", str(path)]
            seconds = [timed(command) for _ in range(repeats)]
            worst = max(worst, *seconds)
            median = statistics.median(seconds)
            print(
                f"{path.name[:48]:<48} {median:8.2f} {max(seconds):8.2f} {median / baseline:14.1f}"
            )
    print(f"\n{len(files)} files, {repeats} runs each; slowest run {worst:.2f} s; ", end="")
    print(f"bare python start {baseline:.3f} s")
    print(f"target: every run under 2 s: {'PASS' if worst < 2 else 'MISS'}")


if __name__ == "__main__":
    main()
