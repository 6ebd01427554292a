"""The pages: the runs (`/`) and a run's report (`/runs/{id}`), rendered on the server."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.deps import SessionDep
from app.pages import views

HERE = Path(__file__).parent
STATIC_URL = "/static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/")
def runs(
    request: Request,
    session: SessionDep,
    name: str | None = None,
    project: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    found = views.runs_page(session, name, project, page)
    return templates.TemplateResponse(request, "runs.html", {"page": found})


@router.get("/runs/{run_id}")
def report(request: Request, run_id: str, session: SessionDep) -> HTMLResponse:
    shown = views.report(session, run_id)
    return templates.TemplateResponse(request, "run.html", {"report": shown})


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error on a page, said on a page (the API answers JSON)."""
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
