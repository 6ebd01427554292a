"""The application factory: `create_app(settings)` builds one self-contained service instance."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.artifacts.router import router as artifacts_router
from app.config import Settings, get_settings
from app.db import migrate
from app.db.engine import make_engine, make_sessionmaker
from app.deps import require_api_key
from app.diagnoses.router import router as diagnoses_router
from app.errors import install_error_handlers
from app.imports.router import router as imports_router
from app.jobs.queue import JobQueue, install_after_commit_hooks, make_huey
from app.jobs.router import router as jobs_router
from app.pages.router import HERE, STATIC_URL
from app.pages.router import router as pages_router
from app.probes.router import router as probes_router
from app.reevaluations.router import router as reevaluations_router
from app.responses import JSONResponse
from app.runs.router import router as runs_router
from app.storage import open_store
from app.system.body_limit import BodyLimitMiddleware
from app.system.docs import install_docs
from app.system.key_guard import KeyGuardMiddleware
from app.system.logging import configure_logging
from app.system.metrics import Metrics
from app.system.openapi import SHARED, errors
from app.system.router import router as system_router
from app.system.telemetry import TelemetryMiddleware
from app.system.url_guard import UrlGuardMiddleware
from app.writeback.router import router as writeback_router

UPLOAD_OVERHEAD = 1024 * 1024  # multipart headers and boundaries around the file
GZIP_MIN_BYTES = 1024  # histories, reports and the chart library compress 5-10x

DESCRIPTION = """
lossgap tells you why your training and validation losses look the way they do.

POST a loss history (`/v1/runs`), append to it while training (`/v1/runs/{id}/epochs`) and read
the ranked likely causes of the gap (`/v1/runs/{id}/diagnosis`). Upload a TorchScript checkpoint
and the data (`/v1/runs/{id}/artifacts`) and start a re-evaluation (`/v1/runs/{id}/reevaluations`)
to settle what the curves alone cannot. Errors are
`{"error": {"code": …, "message": …}}` with a 4xx status.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    install_after_commit_hooks(sessions)
    metrics = Metrics(sessions)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.should_auto_migrate:
            migrate.upgrade(settings)
        yield
        engine.dispose()

    app = FastAPI(
        title="lossgap",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONResponse,
        docs_url=None,  # served by install_docs from the package's own assets: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessions
    app.state.metrics = metrics
    app.state.queue = JobQueue(make_huey(settings, settings.reeval_queue))
    app.state.store = open_store(settings)
    app.state.schema_head = migrate.head_revision(settings)

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)], responses=errors(*SHARED))
    v1.include_router(runs_router)
    v1.include_router(imports_router)
    v1.include_router(diagnoses_router)
    v1.include_router(artifacts_router)
    v1.include_router(reevaluations_router)
    v1.include_router(probes_router)
    v1.include_router(jobs_router)
    v1.include_router(writeback_router)
    app.include_router(v1)
    app.include_router(system_router)
    app.include_router(pages_router)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="static")
    install_docs(app)
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        upload_bytes=max(settings.max_model_bytes, settings.max_data_bytes) + UPLOAD_OVERHEAD,
        read_seconds=settings.body_read_seconds,
    )
    app.add_middleware(KeyGuardMiddleware, settings=settings)
    app.add_middleware(UrlGuardMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(TelemetryMiddleware, metrics=metrics)
    return app
