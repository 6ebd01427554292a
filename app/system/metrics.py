"""Prometheus metrics: request counts and latencies, plus stored runs and jobs by state.

Each app owns its registry (no module globals), so several apps in one process, as in tests,
never share counters. Store gauges are read from the database at scrape time.
"""

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Job, JobStatus, Run

log = logging.getLogger("lossgap.metrics")


class StoreCollector(Collector):
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory

    def collect(self) -> Iterator[Metric]:
        try:
            with self._session_factory() as session:
                runs = session.scalar(select(func.count()).select_from(Run)) or 0
                by_status = dict(
                    session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
                )
        except Exception:
            log.warning("metrics: database unreachable, store gauges skipped", exc_info=True)
            return
        yield GaugeMetricFamily("lossgap_runs_stored", "Runs stored.", value=runs)
        jobs = GaugeMetricFamily("lossgap_jobs", "Jobs by state.", labels=["state"])
        for state in JobStatus:
            jobs.add_metric([state.value], by_status.get(state.value, 0))
        yield jobs


class Metrics:
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lossgap_http_requests",
            "HTTP requests handled.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lossgap_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.registry.register(StoreCollector(session_factory))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
