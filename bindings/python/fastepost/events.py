# SPDX-License-Identifier: MIT
"""What processing a delivery did and the event log's rows (docs/events.md): the results of
:meth:`Connection.odoo_process`, :meth:`~Connection.hubspot_process`,
:meth:`~Connection.events`, :meth:`~Connection.events_retry` and
:meth:`~Connection.prune_events`, and the HTTP status to answer."""

from typing import Any, Callable, Dict, Iterator, List, Optional, Union, overload

from . import core as _core
from ._support import Result
from .core import Error


def status_http(code: int) -> int:
    """The HTTP status a webhook endpoint answers for a status code (0 -> 200, ParseError ->
    400, AuthError -> 401, ConflictError -> 409, TooBigError -> 413, ConnectionError/BusyError
    -> 503, else 500)."""
    return _core.status_http(int(code))


class _EventFields(Result):
    """The fields, ``ok`` and ``type`` that :class:`EventResult` and :class:`WebhookEvent`
    share (each has its own ``__slots__``)."""

    __slots__ = ()
    code: int
    status: str
    http_status: int
    outcome: Optional[str]
    event_id: Optional[int]
    customer_id: Optional[int]
    remark_id: Optional[int]
    task_id: Optional[int]
    warnings: List[str]
    error: Optional[str]
    index: Optional[int]
    event_type: Optional[str]
    object_id: Optional[int]

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def type(self) -> Optional[str]:
        """The event's type (an alias of ``event_type``)."""
        return self.event_type


class EventResult(_EventFields):
    """What processing one delivery did, with the keys and types of the CLI's ``--json``
    (docs/events.md): ``code`` (0 or the error code), ``status`` ("ok" or the error name,
    "FASTEPOST_EPARSE" ...), ``http_status`` (answer this), ``outcome`` ("created", "updated",
    "unchanged", "stale", "ignored", "conflict", "duplicate", "spooled"; None when it failed
    before a decision), the ids written (None for none), ``warnings`` and ``error`` (the failure
    message, or None). An event of a batch also has ``index``, ``event_type`` and
    ``object_id``."""

    __slots__ = ("code", "status", "http_status", "outcome", "event_id", "customer_id",
                 "remark_id", "task_id", "warnings", "error", "index", "event_type", "object_id")

    _BATCH_KEYS = ("index", "event_type", "object_id")

    def __init__(self, **fields: Any) -> None:
        for k in self._BATCH_KEYS:
            fields.setdefault(k, None)
        super().__init__(**fields)

    def to_dict(self) -> Dict[str, Any]:
        d = super().to_dict()
        if self.index is None:
            for k in self._BATCH_KEYS:
                del d[k]
        return d


class EventBatch(Result):
    """What processing a request with several events did (a HubSpot batch, an Odoo batch):
    ``status``/``code``/``http_status``/``error`` of the whole batch, ``count`` events of which
    ``failed`` failed, and ``events`` (one :class:`EventResult` each, with ``index``,
    ``event_type`` and ``object_id``). Iterating, ``len()`` and ``batch[i]`` go over the
    events."""

    __slots__ = ("code", "status", "http_status", "count", "failed", "error", "events")
    code: int
    status: str
    http_status: int
    count: int
    failed: int
    error: Optional[str]
    events: List[EventResult]

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "EventBatch":
        return cls(**dict(d, events=[EventResult(**e) for e in d["events"]]))

    @property
    def ok(self) -> bool:
        return self.code == 0

    def __iter__(self) -> Iterator[EventResult]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    @overload
    def __getitem__(self, i: int) -> EventResult: ...
    @overload
    def __getitem__(self, i: slice) -> List[EventResult]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[EventResult, List[EventResult]]:
        return self.events[i]


#: The former name of :class:`EventBatch`.
HubSpotBatch = EventBatch


class Event(Result):
    """One integration_events row, with the keys of ``fastepost events list --json``: times in
    microseconds since the epoch (UTC; None for none), ids and texts None for none."""

    __slots__ = ("id", "source", "event_type", "status", "outcome", "external_id",
                 "customer_id", "attempts", "error", "created_at_us", "processed_at_us",
                 "next_attempt_at_us")
    id: int
    source: str
    event_type: str
    status: str
    outcome: Optional[str]
    external_id: Optional[str]
    customer_id: Optional[int]
    attempts: int
    error: Optional[str]
    created_at_us: int
    processed_at_us: Optional[int]
    next_attempt_at_us: Optional[int]


class RetryReport(Result):
    """What :meth:`Connection.events_retry` did (the keys of ``fastepost events retry --json``)."""

    __slots__ = ("status", "attempted", "succeeded", "failed", "dead")
    status: str
    attempted: int
    succeeded: int
    failed: int
    dead: int


class PruneReport(Result):
    """What :meth:`Connection.prune_events` did (the keys of ``fastepost events prune --json``):
    rows ``deleted``, ``batches`` committed, ``cutoff_us`` (older rows were deleted; microseconds
    since the epoch, UTC), and the ``older_than_days`` and ``event_status`` asked for."""

    __slots__ = ("status", "deleted", "batches", "cutoff_us", "older_than_days", "event_status")
    status: str
    deleted: int
    batches: int
    cutoff_us: int
    older_than_days: int
    event_status: str


def _attach_result(e: Error, convert: Callable[[Any], Result]) -> None:
    # e.result is the C layer's dict (or list), typed Any in core.pyi.
    if isinstance(e.result, (dict, list)):
        e.result = convert(e.result)

