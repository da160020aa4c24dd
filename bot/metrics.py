"""Prometheus metrics of one service instance (own registry, so tests can run many apps)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ChatCounters:
    """Chat input the bot refused or held back (counted, not audited one by one: a flood of
    forged presses would bury the real refusals in the audit log)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.presses_refused = Counter(
            "sipas_chat_presses_refused",
            "Chat button presses refused: malformed or forged data, another chat's button, "
            "a role the chat lacks",
            ["reason"],
            registry=registry,
        )
        self.inbound_limited = Counter(
            "sipas_chat_inbound_limited",
            "Chat updates over the per-chat budget: warned once, then ignored",
            ["verdict"],
            registry=registry,
        )

    def refused(self, reason: str) -> None:
        self.presses_refused.labels(reason).inc()


@dataclass(frozen=True, slots=True)
class Sample:
    """One value a channel reports at scrape time: `name` (without the `sipas_` prefix),
    whether it only grows (a counter) or is a level (a gauge), and its labels."""

    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    counter: bool = True


Source = Callable[[], Iterable[Sample]]


class ChannelCollector(Collector):
    """What the channel adapters count themselves (webhook refusals, duplicates, billable
    replies, fallbacks), read from each registered source at scrape time."""

    def __init__(self) -> None:
        self.sources: list[Source] = []

    def collect(self) -> Iterator[Metric]:
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for source in list(self.sources):
            for sample in source():
                name = f"sipas_{sample.name}"
                family = families.get(name)
                if family is None:
                    kind = CounterMetricFamily if sample.counter else GaugeMetricFamily
                    family = families[name] = kind(name, sample.help, labels=sorted(sample.labels))
                family.add_metric([sample.labels[k] for k in sorted(sample.labels)], sample.value)
        yield from families.values()


class Metrics:
    """The counters and histograms the service exports at `/metrics`."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events_accepted = Counter(
            "sipas_intake_events_accepted",
            "Case events accepted on the intake endpoint",
            ["result"],
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "sipas_intake_events_rejected",
            "Case events refused on the intake endpoint, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "sipas_http_request_duration_seconds",
            "HTTP request latency by route",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.chat = ChatCounters(self.registry)
        self.unreachable = Counter(
            "sipas_outbox_unreachable",
            "Messages a channel could not carry now (Zalo OA reply window closed, unfollowed): "
            "the citizen still has the receipt's web link",
            ["channel", "kind"],
            registry=self.registry,
        )
        self.channels = ChannelCollector()
        self.registry.register(self.channels)
        # Refreshed before each scrape (figures read from the database).
        self.before_scrape: list[Callable[[], Awaitable[None]]] = []

        self._latency: dict[tuple[str, str, int], Any] = {}
        self._accepted = {
            True: self.events_accepted.labels("new"),
            False: self.events_accepted.labels("duplicate"),
        }

    def accepted(self, created: bool) -> Any:
        """The accepted-events counter of a new (True) or repeated (False) delivery."""
        return self._accepted[created]

    def latency(self, route: str, method: str, status: int) -> Any:
        """The latency histogram of one route, method and status (children kept: `labels`
        takes a lock and builds its key on every call)."""
        key = (route, method, status)
        child = self._latency.get(key)
        if child is None:
            child = self._latency[key] = self.request_latency.labels(route, method, str(status))
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)
