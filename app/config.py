"""Every knob of the service, read once from `LOSSGAP_*` environment variables.

One place for settings keeps docs/configuration.md honest: each field here is a row there, and
nothing else in the code reads the environment.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MiB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOSSGAP_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        Path("./data"), description="Directory for the SQLite database, queue and artifacts."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file `lossgap.db` in DATA_DIR."
    )
    queue_url: str | None = Field(
        None,
        description="Huey queue: `redis://…` or `postgresql://…`; default: SQLite in DATA_DIR.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated admin bearer keys (they see every project). With neither "
        "these nor REQUIRE_KEYS, the service asks for no key.",
    )
    require_keys: bool = Field(
        False,
        description="Every /v1 route and page needs a key: an admin key above or one made by "
        "`lossgap keys create` (stored hashed, bound to projects).",
    )
    header_read_seconds: float = Field(
        10.0,
        gt=0,
        description="A connection whose request headers are not complete by then "
        "is closed (slow clients cannot hold sockets).",
    )
    body_read_seconds: float = Field(
        60.0, gt=0, description="Longest wait for the next part of a request body (408 after)."
    )
    protect_docs: bool = Field(
        False,
        description="With keys required, also require one for /docs, /redoc, /openapi.json and "
        "/metrics (scrapers then send `Authorization: Bearer <key>`).",
    )
    session_cookie_seconds: int = Field(
        7 * 24 * 3600, gt=0, description="How long the pages' login lasts in a browser."
    )
    auto_migrate: bool | None = Field(
        None, description="Upgrade the schema at start; default: on for SQLite, off otherwise."
    )

    max_body_bytes: int = Field(128 * MiB, gt=0, description="Largest JSON request body.")
    max_epochs_per_run: int = Field(100_000, gt=0, description="Epoch rows one run may hold.")
    max_steps_per_request: int = Field(
        2_000_000, gt=0, description="Step rows one request may carry."
    )
    max_steps_per_run: int = Field(20_000_000, gt=0, description="Step rows one run may hold.")
    max_metrics_per_row: int = Field(64, gt=0, description="Distinct keys in one epoch/step row.")
    max_import_bytes: int = Field(
        64 * MiB, gt=0, description="Largest log file or zipped run folder an import accepts."
    )
    max_config_bytes: int = Field(64 * 1024, gt=0, description="Size of a run's `config` as JSON.")
    page_size_max: int = Field(500, gt=0, description="Largest `limit` of a list request.")

    mlflow_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated MLflow tracking hosts the service may call (`host` or "
        "`host:port`); empty means any public host. Internal addresses (loopback, private, "
        "link-local) are called only when listed here.",
    )
    mlflow_timeout_seconds: float = Field(
        30.0, gt=0, description="Time limit of each request to an MLflow tracking server."
    )
    mlflow_max_metrics: int = Field(
        200, gt=0, description="Metric series one MLflow import may fetch."
    )

    job_lease_seconds: float = Field(
        60.0, gt=0, description="How long a claim on a job lasts unless renewed."
    )
    job_max_attempts: int = Field(3, gt=0, description="Deliveries of a job whose worker died.")
    job_timeout_seconds: float = Field(3600.0, gt=0, description="Longest a job may run.")
    job_redeliver_seconds: float = Field(
        300.0, gt=0, description="A queued job nobody picked up is re-enqueued after this."
    )
    job_progress_seconds: float = Field(
        1.0, gt=0, description="A running job writes its progress and stage at most this often."
    )
    job_reap_seconds: float = Field(
        15.0, gt=0, description="How often each worker looks for jobs whose lease expired."
    )
    worker_concurrency: int = Field(2, gt=0, description="Jobs one worker process runs at once.")

    artifact_store_url: str | None = Field(
        None,
        description="`s3://bucket[/prefix]` or `file:///path`; default: DATA_DIR/artifacts.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, moto…); credentials from AWS_* env."
    )
    s3_region: str | None = Field(None, description="S3 region name, when the store needs one.")
    max_model_bytes: int = Field(2048 * MiB, gt=0, description="Largest model upload.")
    max_data_bytes: int = Field(2048 * MiB, gt=0, description="Largest data upload (on disk).")
    max_data_unpacked_bytes: int = Field(
        8192 * MiB,
        gt=0,
        description="Largest total of a data file's arrays once decompressed (zip-bomb guard).",
    )
    max_compression_ratio: float = Field(
        200.0, gt=1, description="Largest unpacked/packed size ratio of one `.npz` member."
    )
    reeval_queue: str = Field(
        "default", description="Queue re-evaluation jobs go to (`lossgap worker --queue NAME`)."
    )
    reeval_batch_size: int = Field(
        512, gt=0, description="Batch size of eval-mode passes (train-mode ones use the run's)."
    )
    reeval_train_mode_samples: int = Field(
        10_000, gt=1, description="Samples each train-mode pass scores (its mean is what counts)."
    )
    reeval_permutations: int = Field(
        2000, gt=0, description="Random splits drawn by the shuffled-split permutation test."
    )
    reeval_near_duplicate_cosine: float = Field(
        0.995, gt=0, le=1, description="Cosine similarity at which two samples are near-duplicates."
    )
    reeval_max_samples: int = Field(
        200_000, gt=0, description="Training or validation samples a re-evaluation reads."
    )

    db_pool_size: int = Field(10, gt=0, description="Postgres connection pool size per process.")
    sqlite_busy_timeout_ms: int = Field(
        30_000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    log_format: Literal["text", "json"] = Field("text", description="`json` for log shippers.")
    log_level: str = Field("INFO", description="Python logging level.")
    shutdown_grace_seconds: float = Field(
        30.0, ge=0, description="How long shutdown waits for in-flight requests."
    )

    @field_validator("api_keys", "mlflow_allowed_hosts", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lossgap.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def keys_required(self) -> bool:
        return self.require_keys or bool(self.api_keys)

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate


@lru_cache
def get_settings() -> Settings:
    return Settings()
