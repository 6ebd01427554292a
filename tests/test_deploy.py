"""The team deployment files must name what the code reads (no Docker engine runs here)."""

import re
import subprocess
import sys
from pathlib import Path

import click
import yaml
from typer.main import get_command

from app.cli import cli
from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_services_and_volumes_of_a_team_deployment():
    spec = compose()
    assert set(spec["services"]) == {"postgres", "redis", "migrate", "api", "worker"}
    assert set(spec["volumes"]) == {"pgdata", "redisdata", "artifacts"}
    for name in ("postgres", "redis", "api"):
        assert "healthcheck" in spec["services"][name], name
    gpu = spec["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["driver"] == "nvidia" and gpu["capabilities"] == ["gpu"]
    assert spec["services"]["api"]["ports"] == ["8000:8000"]


def test_compose_environment_names_only_real_settings_and_reachable_hosts():
    spec = compose()
    fields = {f"LOSSGAP_{name.upper()}" for name in Settings.model_fields}
    for name in ("migrate", "api", "worker"):
        env = spec["services"][name]["environment"]
        assert set(env) <= fields, set(env) - fields
        assert env["LOSSGAP_AUTO_MIGRATE"] == "false"
        database = env["LOSSGAP_DATABASE_URL"]
        assert database.startswith("postgresql+psycopg://") and "@postgres:5432/" in database
        assert env["LOSSGAP_QUEUE_URL"] == "redis://redis:6379/0"
    worker_command = spec["services"]["worker"]["command"]
    queue = worker_command[worker_command.index("--queue") + 1]
    assert spec["services"]["api"]["environment"]["LOSSGAP_REEVAL_QUEUE"] == queue
    postgres_env = spec["services"]["postgres"]["environment"]
    assert postgres_env["POSTGRES_DB"] == "lossgap" and postgres_env["POSTGRES_USER"] == "lossgap"


def test_compose_commands_are_real_cli_commands():
    """Each command must parse with the CLI's own parser: unknown options or commands fail."""
    for name in ("migrate", "api", "worker"):
        command = list(compose()["services"][name]["command"])
        assert command.pop(0) == "lossgap"
        target = get_command(cli)
        while isinstance(target, click.Group):
            target = target.commands[command.pop(0)]
        target.make_context(target.name, command)


def test_dockerfile_builds_a_slim_api_and_a_torch_worker():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, flags=re.M)
    assert stages == ["base", "api", "worker"]
    api = text.split("FROM base AS api")[1].split("FROM base AS worker")[0]
    worker = text.split("FROM base AS worker")[1]
    assert "torch" not in api and "[worker]" not in api
    assert ".[worker]" in worker
    assert "8000" in api and "readyz" in api
    for target in ("api", "worker"):
        for service in compose()["services"].values():
            build = service.get("build")
            if build and build["target"] == target:
                break
        else:
            raise AssertionError(f"no compose service builds target {target}")


def test_the_worker_extra_carries_torch_and_the_api_install_does_not():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("torch") for dep in project["dependencies"])
    assert any(dep.startswith("torch") for dep in project["optional-dependencies"]["worker"])


def test_the_api_imports_without_torch_or_workers():
    code = (
        "import sys; import app.main, app.cli; "
        "assert 'torch' not in sys.modules; "
        "assert not any(m.startswith('workers') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_configuration_page_lists_every_setting():
    readme = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`LOSSGAP_{name.upper()}`" in readme, name


def test_every_link_between_the_docs_leads_somewhere():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
