"""Counters, gauges and histograms exposed at GET /metrics in Prometheus' text format.

Backed by prometheus-client, whose text output keeps counters exact (1234567.0, never
1.23457e+06). With several workers (`renfort run --workers N`) the parent sets
PROMETHEUS_MULTIPROC_DIR before the workers import the library: each worker writes its
samples to files there and whichever worker answers a scrape sums them all, so one scrape
target sees the whole bot. Process metrics (memory, CPU, open files) are then left out:
prometheus-client cannot sum them across processes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from threading import Lock
from typing import Any, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAMESPACE = "renfort"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds from an update's arrival in the handlers to the end of its handling.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


_Family = TypeVar("_Family", Counter, Gauge, Histogram)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


class _Snapshot(Collector):
    """Gauges read from the database at scrape time (the same for every worker, so they
    are not summed across workers)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, float]] = {}

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, value) in sorted(self.values.items()):
            yield GaugeMetricFamily(f"{NAMESPACE}_{name}", help_text, value=value)


class Metrics:
    """The service's metrics, one registry per running Renfort (tests start several)."""

    def __init__(self) -> None:
        self._lock = Lock()
        self.registry = CollectorRegistry()
        self._counters: dict[str, Counter] = {}
        self._gauges: dict[str, Gauge] = {}
        self._histograms: dict[str, Histogram] = {}
        self._snapshot = _Snapshot()
        self._multiprocess = multiprocess_dir() is not None
        if not self._multiprocess:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def count(self, name: str, amount: float = 1, help_text: str = "", **labels: str) -> None:
        """Add to a counter (`name` ends in _total)."""
        self._series(self._counters, Counter, name, help_text, labels).inc(amount)

    def gauge(self, name: str, value: float, help_text: str = "", **labels: str) -> None:
        """Set a gauge of this process."""
        # Gauges say how things are now (a job's last run): the latest write wins.
        gauge = self._series(
            self._gauges, Gauge, name, help_text, labels, multiprocess_mode="mostrecent"
        )
        gauge.set(value)

    def observe(self, name: str, seconds: float, help_text: str = "", **labels: str) -> None:
        """Add one duration to a histogram."""
        histogram = self._series(
            self._histograms, Histogram, name, help_text, labels, buckets=LATENCY_BUCKETS
        )
        histogram.observe(seconds)

    def _series(
        self,
        families: dict[str, _Family],
        kind: Callable[..., _Family],
        name: str,
        help_text: str,
        labels: dict[str, str],
        **options: Any,
    ) -> _Family:
        """The series of `name` for these labels, its family registered on first use."""
        with self._lock:
            family = families.get(name)
            if family is None:
                family = families[name] = kind(
                    name,
                    help_text or name,
                    sorted(labels),
                    namespace=NAMESPACE,
                    registry=self.registry,
                    **options,
                )
        return family.labels(**labels) if labels else family

    def snapshot(self, values: Iterable[tuple[str, str, float]]) -> None:
        """Replace the scrape-time gauges: (name, help, value)."""
        self._snapshot.values = {name: (help_text, value) for name, help_text, value in values}

    def value(self, name: str, **labels: str) -> float:
        """This process's value of a counter or gauge (0 when never touched)."""
        sample = f"{NAMESPACE}_{name}"
        found = self.registry.get_sample_value(sample, labels)
        if found is None and name in self._snapshot.values:
            found = self._snapshot.values[name][1]
        return found or 0.0

    def render(self) -> bytes:
        """The exposition text: every worker's samples when several share the directory."""
        directory = multiprocess_dir()
        if directory is None:
            registry = self.registry
        else:
            registry = CollectorRegistry()
            # prometheus-client leaves this constructor unannotated.
            multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(_Joined(registry, self._snapshot))


class _Joined(Collector):
    """A registry plus the scrape-time gauges, for one call of generate_latest."""

    def __init__(self, registry: CollectorRegistry, extra: Collector) -> None:
        self.registry = registry
        self.extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()
        yield from self.extra.collect()
