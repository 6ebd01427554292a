"""A diagnosis as a few lines of plain text, for the end of a training script's output."""

from typing import Any


def format_diagnosis(
    diagnosis: dict[str, Any] | None, limit: int = 3, report_url: str | None = None
) -> str:
    """The summary, the top causes with their first action, and where the report page is."""
    if diagnosis is None:
        return "lossgap: no diagnosis (the server could not be reached; rows are spooled)."
    lines = [f"lossgap: {diagnosis.get('summary', '')}".rstrip()]
    for cause in diagnosis.get("causes", [])[:limit]:
        lines.append(
            f"  {cause['confidence']:5.0%}  {cause['id']:<28} {cause.get('kind', ''):<8} "
            f"{cause.get('title', '')}"
        )
        actions = cause.get("actions") or []
        if actions:
            lines.append(f"         → {actions[0]}")
    if diagnosis.get("status") == "pending":
        lines.append("  (re-evaluation jobs are still running: ask again for the final diagnosis)")
    if report_url:
        lines.append(f"  report: {report_url}")
    return "\n".join(lines)
