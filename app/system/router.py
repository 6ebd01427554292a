"""Probes and metrics, outside `/v1` and never behind an API key (orchestrators call them)."""

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import migrate
from app.errors import ServiceUnavailable
from app.system.openapi import errors

router = APIRouter(tags=["operations"])


def _example(body: object, media_type: str = "application/json") -> dict[int | str, Any]:
    return {200: {"content": {media_type: {"example": body}}}}


@router.get("/healthz", summary="The process is up", responses=_example({"status": "ok"}))
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated",
    responses={**_example({"status": "ready", "schema": "5a7e1c0d9b21"}), **errors(503)},
)
def readyz(request: Request) -> dict[str, str]:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.current_revision(engine)
    except SQLAlchemyError as exc:
        raise ServiceUnavailable(f"The database is unreachable: {exc.__class__.__name__}.") from exc
    head = request.app.state.schema_head
    if current != head:
        raise ServiceUnavailable(
            f"The database schema is at {current}, not {head}; run `lossgap db upgrade`."
        )
    return {"status": "ready", "schema": str(current)}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses=_example(
        "# TYPE lossgap_http_requests_total counter\n"
        'lossgap_http_requests_total{method="POST",route="/v1/runs",status="201"} 12.0\n',
        CONTENT_TYPE_LATEST,
    ),
)
def metrics(request: Request) -> Response:
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
