"""The report pages in a real browser (the distribution's Chromium, driven by Playwright) against
a live server: no console errors, the chart drawn with the series and points the run has, the
cause cards saying what the JSON diagnosis says. Screenshots go to test-artifacts/."""

from pathlib import Path

import httpx
import pytest

from tests.conftest import post_json

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
        "train_loss": [2.0 * 0.85 ** (i * 30 / steps) + 0.05 for i in range(1, steps + 1)],
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


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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
    page.check("#log-scale")
    page.wait_for_function("window.lossgapChart.plot.scales.y.distr === 3")
    shoot(page, "report")
    assert page.problems == []


def test_an_unknown_run_is_a_page_saying_so(live_server, page):
    response = page.goto(f"{live_server.url}/runs/no-such-run")
    assert response.status == 404
    assert "No run with id 'no-such-run'" in page.inner_text("main")
    assert all("404" in problem for problem in page.problems)  # the page's own status, only
