"""HTTP routes for runs: parse, call one service function, shape the answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.artifacts import service as artifacts
from app.deps import AccessDep, SessionDep, SettingsDep, StoreDep, visible_run
from app.responses import JSONResponse
from app.runs import service
from app.runs import steps as step_columns
from app.runs.body_route import StreamedBodyRoute
from app.runs.schemas import AppendOut, HistoryAppend, RunCreate, RunHistoryOut, RunOut, RunPage
from app.runs.service import RunCounts
from app.system.openapi import created_run, errors

router = APIRouter(prefix="/runs", tags=["runs"], route_class=StreamedBodyRoute)
MAX_QUERY_INT = 2**31 - 1  # what every database's integer holds
VISIBLE = [Depends(visible_run)]  # another project's run answers 404, like a missing one


def _run_out(counts: RunCounts) -> RunOut:
    run = counts.run
    return RunOut(
        id=run.id,
        name=run.name,
        project=run.project,
        task=run.task,
        config=run.config,
        epoch_count=counts.epoch_count,
        step_count=counts.step_count,
        data_version=run.data_version,
        created_at=run.created_at,
        updated_at=run.updated_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a run from a loss history",
    responses={**errors(400, 403, 413), **created_run("The run, created.")},
)
def create_run(
    body: RunCreate,
    session: SessionDep,
    settings: SettingsDep,
    access: AccessDep,
    response: Response,
) -> RunOut:
    """With a client-chosen `id` already stored, the rows are appended (200) instead. A project
    key stores the run under its project (its only one when `project` is absent)."""
    created = service.create_run(session, settings, body, access)
    response.headers["Location"] = f"/v1/runs/{created.run.id}"
    if not created.created:
        response.status_code = status.HTTP_200_OK
    return _run_out(created)


@router.post(
    "/{run_id}/epochs",
    summary="Append epochs and steps while training",
    responses=errors(400, 404, 413),
    dependencies=VISIBLE,
)
def append_history(
    run_id: str, body: HistoryAppend, session: SessionDep, settings: SettingsDep
) -> AppendOut:
    """Rows whose epoch (or step) number is already stored replace it: retries never duplicate."""
    result = service.append_history(session, settings, run_id, body)
    return AppendOut(
        id=result.run_id,
        epochs_written=result.epochs_written,
        steps_written=result.steps_written,
        epoch_count=result.epoch_count,
        step_count=result.step_count,
        data_version=result.data_version,
    )


@router.get("", summary="List runs, newest first (a project key: its projects' runs)")
def list_runs(
    session: SessionDep,
    settings: SettingsDep,
    access: AccessDep,
    name: str | None = None,
    project: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_QUERY_INT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_QUERY_INT)] = 0,
) -> RunPage:
    limit = min(limit, settings.page_size_max)
    items, total = service.list_runs(
        session, access, name=name, project=project, limit=limit, offset=offset
    )
    return RunPage(items=[_run_out(c) for c in items], total=total, limit=limit, offset=offset)


@router.get(
    "/{run_id}",
    response_model=RunHistoryOut,
    summary="Read a run and its history",
    responses=errors(404),
    dependencies=VISIBLE,
)
def get_run(run_id: str, session: SessionDep, include_steps: bool = True) -> JSONResponse:
    counts = service.get_run(session, run_id)
    body = _run_out(counts).model_dump(mode="json")
    body["epochs"] = [service.epoch_row(r) for r in service.read_epochs(session, run_id)]
    body["steps"] = (
        step_columns.to_rows(service.read_steps(session, run_id)) if include_steps else None
    )
    return JSONResponse(body)


@router.delete(
    "/{run_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a run",
    responses=errors(404),
    dependencies=VISIBLE,
)
def delete_run(run_id: str, session: SessionDep, store: StoreDep) -> Response:
    """Deletes the history, artifacts (and their files), jobs and probe reports of the run."""
    artifacts.delete_run_with_files(session, store, run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
