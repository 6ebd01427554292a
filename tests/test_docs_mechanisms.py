"""The repo's copy of the cause catalog states each cause's mechanism as the engine uses it."""

from pathlib import Path

from app.analysis.catalog import CAUSES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "causes.md"
START = "<!-- mechanisms: generated from app/analysis/catalog.py, checked by tests -->"
END = "<!-- /mechanisms -->"


def _code(names) -> str:
    return " or ".join(f"`{n}`" for n in sorted(names))


def _declared(cause) -> str:
    if not cause.declared_by:
        return "-"
    always = " (wherever declared)" if cause.declaration_suffices else ""
    return f"{_code(cause.declared_by)}{always}: {_code(cause.accounts_for)}"


def _confirmed(cause) -> str:
    shared = f"shares {_code(cause.also_produces)}" if cause.also_produces else ""
    return "; ".join(t for t in (_code(cause.confirmed_by), shared) if t) or "-"


def render() -> str:
    lines = [
        START,
        "| id | needs (each line one of) | cannot produce | refuted when a re-evaluation lacks "
        "| confirmed by | explains only part when | declared by: accounts for "
        "| claimed only with | never claimed with |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cause in CAUSES:
        needs = "<br>".join(_code(group) for group in cause.requires)
        lines.append(
            f"| `{cause.id}` | {needs} | {_code(cause.excludes) or '-'} | "
            f"{_code(cause.refuted_without) or '-'} | {_confirmed(cause)} | "
            f"{_code(cause.partial_when) or '-'} | {_declared(cause)} | "
            f"{_code(cause.claimed_with) or '-'} | {_code(cause.unclaimed_with) or '-'} |"
        )
    lines.append(END)
    return "\n".join(lines)


def test_the_documented_mechanisms_are_the_ones_the_engine_uses():
    text = DOCS.read_text()
    assert START in text and END in text, "docs/causes.md lost its mechanisms table"
    documented = text[text.index(START) : text.index(END) + len(END)]
    assert documented == render(), "update docs/causes.md: python -c 'from tests...render'"
