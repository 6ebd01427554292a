"""The pages: the runs (`/`) and a run's report (`/runs/{id}`), rendered on the server."""

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.deps import PageAccessDep, SessionDep, SettingsDep, require_page_key, visible_page_run
from app.errors import AppError
from app.imports import service as imports
from app.imports.detect import BY_NAME
from app.keys import service as keys
from app.pages import views
from app.reevaluations.schemas import LOSSES
from app.system.key_guard import KEY_COOKIE

HERE = Path(__file__).parent
STATIC_URL = "/static"
MAX_PAGE = 10**6
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
guarded = APIRouter(dependencies=[Depends(require_page_key)])


@guarded.get("/")
def runs(
    request: Request,
    session: SessionDep,
    access: PageAccessDep,
    name: str | None = None,
    project: str | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    found = views.runs_page(session, access, name, project, page)
    return templates.TemplateResponse(request, "runs.html", {"page": found})


VISIBLE = [Depends(visible_page_run)]  # another project's run is "not found"


@guarded.get("/runs/{run_id}", dependencies=VISIBLE)
def report(request: Request, run_id: str, session: SessionDep) -> HTMLResponse:
    shown = views.report(session, run_id)
    return templates.TemplateResponse(
        request, "run.html", {"report": shown, "losses": list(LOSSES)}
    )


@guarded.get("/runs/{run_id}/curves.{image_format}", response_model=None, dependencies=VISIBLE)
def curves(run_id: str, image_format: Literal["png", "svg"], session: SessionDep) -> Response:
    """The curves as a file, drawn on the server (the plot written back to trackers)."""
    content, media_type = views.curves_image(session, run_id, image_format)
    return Response(content, media_type=media_type)


@guarded.get("/compare")
def compare(
    request: Request,
    session: SessionDep,
    access: PageAccessDep,
    runs: str = "",
    run: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    """`?runs=a,b,…` (or `?run=a&run=b`, the runs page's checkboxes): up to four overlaid."""
    chosen = [r.strip() for r in [*runs.split(","), *(run or [])] if r.strip()]
    found = views.comparison(session, access, chosen)
    return templates.TemplateResponse(
        request, "compare.html", {"comparison": found, "limit": views.MAX_COMPARED}
    )


@guarded.get("/import")
def import_form(request: Request) -> HTMLResponse:
    return _import_page(request, {}, None)


@guarded.post("/import", response_model=None)
def import_file(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    access: PageAccessDep,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    project: Annotated[str, Form()] = "",
    config: Annotated[str, Form()] = "",
    mapping: Annotated[str, Form()] = "",
) -> Response:
    """The API's import, from a form: on success the run's report, else the form again with the
    API's message (and, for unknown columns, the mapping it proposes filled in)."""
    form = {"format": format, "name": name, "project": project, "config": config}
    form["mapping"] = mapping
    try:
        imported = imports.import_file(
            session,
            settings,
            access,
            filename=file.filename or "upload",
            content=file.file.read(settings.max_import_bytes + 1),
            fmt=format or None,
            name=name or None,
            project=project or None,
            config=config or None,
            mapping=mapping or None,
        )
    except AppError as exc:
        session.rollback()
        if exc.details.get("mapping"):
            form["mapping"] = json.dumps(exc.details["mapping"])
        return _import_page(request, form, exc.message, exc.status_code)
    run_id = imported.counts.run.id
    return RedirectResponse(f"/runs/{run_id}", status_code=status.HTTP_303_SEE_OTHER)


def _import_page(
    request: Request, form: dict[str, Any], error: str | None, code: int = 200
) -> HTMLResponse:
    context = {"formats": list(BY_NAME), "form": form, "error": error}
    return templates.TemplateResponse(request, "import.html", context, status_code=code)


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """An error on a page, said on a page (the API answers JSON)."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message},
        status_code=status,
        headers=headers,
    )


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"next": _local(next), "error": None})


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    key: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """A valid key becomes an HttpOnly, SameSite=Strict cookie; the pages and their calls to
    the API carry it, and show what that key may see."""
    if keys.resolve(session, settings, key) is None:
        context = {"next": _local(next), "error": "That key is not valid for this server."}
        return templates.TemplateResponse(request, "login.html", context, status_code=401)
    response = RedirectResponse(_local(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        KEY_COOKIE,
        key,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=settings.session_cookie_seconds,
    )
    return response


@router.get("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(KEY_COOKIE)
    return response


def _local(target: str) -> str:
    """Only a path on this site: a login link must not send anyone elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


router.include_router(guarded)
