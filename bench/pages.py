"""A run's report page in headless Chromium: time until the chart is drawn, and bytes sent.

    PYTHONPATH=. .venv/bin/python bench/pages.py

Serves the app in this process (SQLite in a temporary folder), stores a 100-epoch run (the
baseline) and a 1,000-epoch run with 1,000,000 steps, then opens each report three times in the
distribution's Chromium (Playwright): "cold" is the first load (the diagnosis is computed and
stored), "warm" the median of the next two. Bytes are what went over the wire (gzip included),
page, scripts and styles together. Target for the large run: chart drawn in under 1 s, under
1 MB transferred.
"""

import math
import shutil
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import sync_playwright

from app.config import Settings
from app.main import create_app

CHUNK = 200_000  # step rows per append: well under the body limit
TARGET_SECONDS = 1.0
TARGET_BYTES = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def store_run(client: httpx.Client, name: str, epochs: int, steps: int) -> str:
    rows = [
        {
            "epoch": e,
            "train_loss": 2.0 * math.exp(-e / (epochs / 5)) + 0.1,
            "val_loss": 1.8 * math.exp(-e / (epochs / 5)) + 0.15 + 0.0002 * e,
        }
        for e in range(1, epochs + 1)
    ]
    created = client.post("/v1/runs", json={"name": name, "epochs": rows})
    created.raise_for_status()
    run_id = str(created.json()["id"])
    per_epoch = steps / epochs if steps else 1
    for start in range(0, steps, CHUNK):
        numbers = range(start + 1, min(start + CHUNK, steps) + 1)
        columns = {
            "step": list(numbers),
            "epoch": [n / per_epoch for n in numbers],
            "train_loss": [
                2.0 * math.exp(-(n / per_epoch) / (epochs / 5)) + 0.1 + 0.05 * math.sin(n)
                for n in numbers
            ],
        }
        client.post(f"/v1/runs/{run_id}/epochs", json={"steps": columns}).raise_for_status()
    return run_id


def open_report(browser: object, url: str) -> tuple[float, int]:
    page = browser.new_page()  # type: ignore[attr-defined]
    sent: list[int] = []
    page.on("requestfinished", lambda r: sent.append(r.sizes()["responseBodySize"]))
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function("window.lossgapChart !== undefined")
    drawn = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    page.close()
    return drawn, sum(sent)


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs the distribution's chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), auto_migrate=True)  # type: ignore[call-arg]
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=300) as client:
            runs = {
                "100 epochs": store_run(client, "small", 100, 0),
                "1,000 epochs + 1,000,000 steps": store_run(client, "large", 1000, 1_000_000),
            }
        results = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            for label, run_id in runs.items():
                loads = [open_report(browser, f"{base}/runs/{run_id}") for _ in range(3)]
                results[label] = (
                    loads[0],
                    statistics.median(t for t, _ in loads[1:]),
                    loads[-1][1],
                )
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)
    small = results["100 epochs"]
    print(f"{'run':34} {'cold s':>8} {'warm s':>8} {'bytes':>10}")
    for label, (cold, warm, sent) in results.items():
        print(f"{label:34} {cold[0]:8.3f} {warm:8.3f} {sent:10,d}")
    (cold, _), warm, sent = results["1,000 epochs + 1,000,000 steps"]
    print(
        f"large / small: warm {warm / small[1]:.1f}x, bytes {sent / small[2]:.1f}x; "
        f"target: warm < {TARGET_SECONDS:g} s ({'met' if warm < TARGET_SECONDS else 'NOT met'}), "
        f"< {TARGET_BYTES:,d} bytes ({'met' if sent < TARGET_BYTES else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
