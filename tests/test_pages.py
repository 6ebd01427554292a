"""The report pages in a real browser (the distribution's Chromium, driven by Playwright) against
a live server: no console errors, the chart drawn with the series and points the run has, the
cause cards saying what the JSON diagnosis says. Screenshots go to test-artifacts/."""

import contextlib
import math
from pathlib import Path

import httpx
import pytest

from tests.conftest import post_json
from tests.test_imports import REALWORLD

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def overfitting_run(url: str, name: str = "resnet-overfits", steps: int = 3000) -> str:
    epochs = [
        {"epoch": e, "train_loss": 2.0 * 0.85**e + 0.05, "val_loss": 1.0 + 0.002 * (e - 12) ** 2}
        for e in range(1, 31)
    ]
    columns = {
        "step": list(range(1, steps + 1)),
        "epoch": [i * 30 / steps for i in range(1, steps + 1)],
        "train_loss": [
            (2.0 * 0.85 ** (i * 30 / steps) + 0.05) * (1 + 0.15 * math.sin(i * 1.7))
            for i in range(1, steps + 1)
        ],
    }
    body = {"name": name, "project": "vision", "task": "classification", "epochs": epochs}
    body |= {"steps": columns, "config": {"dropout": 0.1, "batch_size": 64}}
    with httpx.Client(base_url=url, timeout=30) as client:
        created = post_json(client, "/v1/runs", body)
    assert created.status_code == 201, created.text
    return created.json()["id"]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.problems = []
    opened.on("console", lambda m: m.type == "error" and opened.problems.append(m.text))
    opened.on("pageerror", lambda e: opened.problems.append(str(e)))
    yield opened
    context.close()


def shoot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_the_runs_page_lists_runs_with_their_verdicts(live_server, page):
    run_id = overfitting_run(live_server.url)
    page.goto(f"{live_server.url}/")
    row = page.locator(f"tr[data-run='{run_id}']")
    assert row.locator("a").inner_text() == "resnet-overfits"
    assert row.locator(".badge").inner_text() == "problem"
    assert "Overfitting" in row.inner_text()
    page.fill("input[name=project]", "nothing-here")
    page.click("button[type=submit]")
    assert page.locator("tr[data-run]").count() == 0
    shoot(page, "runs")
    assert page.problems == []


def test_the_report_draws_the_curves_and_the_causes_of_the_json_diagnosis(live_server, page):
    run_id = overfitting_run(live_server.url)
    diagnosis = httpx.get(f"{live_server.url}/v1/runs/{run_id}/diagnosis", timeout=30).json()
    page.goto(f"{live_server.url}/runs/{run_id}")
    page.wait_for_function("window.lossgapChart !== undefined")
    keys = page.evaluate("window.lossgapChart.keys")
    assert {"steps", "train", "val"} <= set(keys)
    points = page.evaluate(
        "Object.fromEntries(window.lossgapChart.keys.map((k, i) => "
        "[k, window.lossgapChart.plot.data[i + 1].filter(v => v !== null).length]))"
    )
    assert points["train"] == points["val"] == 30
    assert 0 < points["steps"] <= 3000
    cards = page.locator("article.cause")
    assert cards.evaluate_all("cs => cs.map(c => c.dataset.cause)") == [
        c["id"] for c in diagnosis["causes"]
    ]
    first = diagnosis["causes"][0]
    assert cards.first.locator(".value").inner_text() == f"{first['confidence'] * 100:.0f}%"
    assert page.locator("#summary").inner_text() == diagnosis["summary"]
    assert page.locator("table.checks tbody tr").count() == len(diagnosis["checks"])
    assert page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).gap_region")
    for kind, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        image = httpx.get(f"{live_server.url}/runs/{run_id}/curves.{kind}", timeout=30)
        assert image.status_code == 200 and image.content.startswith(magic), kind
    shoot(page, "report-top", full_page=False)  # the README's screenshot
    page.check("#log-scale")
    page.wait_for_function("window.lossgapChart.plot.scales.y.distr === 3")
    shoot(page, "report")
    assert page.problems == []


def test_an_unknown_run_is_a_page_saying_so(live_server, page):
    response = page.goto(f"{live_server.url}/runs/no-such-run")
    assert response.status == 404
    assert "No run with id 'no-such-run'" in page.inner_text("main")
    assert all("404" in problem for problem in page.problems)  # the page's own status, only


def test_an_import_through_the_page_lands_on_its_report(live_server, page, tmp_path):
    page.goto(f"{live_server.url}/import")
    keras = REALWORLD / "keras_csvlogger/speaker250.training.log"
    page.set_input_files("input[name=file]", str(keras))
    page.click("form.import button[type=submit]")
    page.wait_for_url(f"{live_server.url}/runs/*")
    assert page.locator("h1").inner_text() == keras.name
    assert page.locator("article.cause").count() > 0
    odd = tmp_path / "odd.csv"
    odd.write_text("it,a_loss,b_loss_valid\n1,0.9,1.0\n2,0.7,0.9\n3,0.6,0.85\n")
    page.goto(f"{live_server.url}/import")
    page.set_input_files("input[name=file]", str(odd))
    page.click("form.import button[type=submit]")
    assert "Its columns are: it, a_loss, b_loss_valid" in page.inner_text("#import-error")
    assert '"val_loss": "b_loss_valid"' in page.input_value("textarea[name=mapping]")
    page.set_input_files("input[name=file]", str(odd))  # the proposed mapping, sent as it is
    page.click("form.import button[type=submit]")
    page.wait_for_url(f"{live_server.url}/runs/*")
    assert page.locator("h1").inner_text() == "odd.csv"
    shoot(page, "import")
    assert all("422" in problem for problem in page.problems)  # the refused form's own status


def test_compare_overlays_the_chosen_runs_with_their_verdicts(live_server, page):
    first = overfitting_run(live_server.url, "first")
    second = overfitting_run(live_server.url, "second", steps=10)
    page.goto(f"{live_server.url}/")
    for run_id in (first, second):
        page.check(f"tr[data-run='{run_id}'] input[type=checkbox]")
    page.click("#compare-form button[type=submit]")
    page.wait_for_function("window.lossgapChart !== undefined")
    assert sorted(page.evaluate("window.lossgapChart.keys")) == [
        "train 0",
        "train 1",
        "val 0",
        "val 1",
    ]
    assert page.locator("ul.compared li .badge").all_inner_texts() == ["problem", "problem"]
    shoot(page, "compare")
    assert page.problems == []


def test_a_reevaluation_started_on_the_page_shows_its_progress_then_its_results(live_server, page):
    from playwright.sync_api import Error as PlaywrightError

    from tests.planted import leakage

    leaky = leakage(seed=2, epochs=8)
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        created = post_json(client, "/v1/runs", {**leaky.history, "name": "leaky"})
        run_id = created.json()["id"]
        for kind, name, blob in (("model", "m.pt", leaky.model), ("data", "d.npz", leaky.data)):
            uploaded = client.post(
                f"/v1/runs/{run_id}/artifacts", data={"kind": kind}, files={"file": (name, blob)}
            )
            assert uploaded.status_code == 201, uploaded.text
    page.goto(f"{live_server.url}/runs/{run_id}")
    assert page.locator("table.passes").count() == 0
    page.select_option("form.reevaluate select[name=loss]", "cross_entropy")
    page.click("form.reevaluate button[type=submit]")
    seen = set()
    for _ in range(240):  # the page polls the job and reloads when it is done
        if page.locator("table.passes").count():
            break
        with contextlib.suppress(PlaywrightError):  # the page reloads between polls
            seen.update(page.locator("#job-stage").all_inner_texts())
        page.wait_for_timeout(250)
    assert page.locator("table.passes").count() == 1, seen
    assert "Copies of validation samples in training" in page.inner_text("#reevaluation")
    page.wait_for_function("window.lossgapProbeCharts && window.lossgapProbeCharts.null")
    bins = page.evaluate("window.lossgapProbeCharts.histograms.data.map(s => s.length)")
    assert len(bins) == 3 and len(set(bins)) == 1 and bins[0] > 10  # edges, train, val
    shares = page.evaluate("window.lossgapProbeCharts.histograms.data[2].slice(0, -1)")
    assert sum(shares) == pytest.approx(1.0, abs=1e-3)
    shoot(page, "reevaluated")
    assert page.problems == []


def test_with_keys_set_the_pages_show_nothing_without_one(backend, tmp_path, page):
    from tests.conftest import LiveServer, server_env, wipe

    live = LiveServer({**server_env(backend, tmp_path), "LOSSGAP_API_KEYS": "k1,k2"})
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            body = {"name": "secret-run", "epochs": [{"epoch": 1, "train_loss": 1, "val_loss": 1}]}
            created = client.post("/v1/runs", json=body, headers={"Authorization": "Bearer k1"})
        run_id = created.json()["id"]
        for path in ("/", f"/runs/{run_id}", f"/compare?runs={run_id}", "/import"):
            page.goto(f"{live.url}{path}")
            assert "/login" in page.url and "secret-run" not in page.content(), path
        page.goto(f"{live.url}/runs/{run_id}")
        page.fill("input[name=key]", "wrong")
        page.click("form button[type=submit]")
        assert "not valid" in page.inner_text("#login-error")
        page.fill("input[name=key]", "k2")
        page.click("form button[type=submit]")
        page.wait_for_url(f"{live.url}/runs/{run_id}")
        assert page.locator("h1").inner_text() == "secret-run"
        status = page.evaluate(f"fetch('/v1/runs/{run_id}/diagnosis').then(r => r.status)")
        assert status == 200  # the page's own calls to the API carry the login
        cookie = next(c for c in page.context.cookies() if c["name"] == "lossgap_key")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        shoot(page, "logged-in")
    finally:
        live.stop()
        wipe(backend)
    assert all("401" in problem for problem in page.problems)  # the refused login's own status
