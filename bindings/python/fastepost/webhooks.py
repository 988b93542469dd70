# SPDX-License-Identifier: MIT
"""Webhooks and the event log: HubSpot signatures (docs/hubspot.md), Odoo deliveries
(docs/odoo.md), every CRM through one entry (docs/webhooks.md), the webhook methods of
:class:`Connection` and their results."""

import contextlib
import datetime
import enum
import json
import os
import threading
from typing import (TYPE_CHECKING, Any, Callable, ContextManager, Dict, Iterable, Iterator, List,
                    Literal, Optional, Protocol, Tuple, Union, overload, runtime_checkable)

from . import core as _core
from ._support import Result, _body, _Path
from .core import Error, InvalidError
from .spool import Spool

if TYPE_CHECKING:
    from .connection import Connection, _CallLock

#: A request body as the layer takes it (copied to bytes when mutable; str is sent as UTF-8).
_RawBody = Union[bytes, bytearray, memoryview, str]
#: A secret or an API key: str, or bytes for one that is not text.
_Key = Union[str, bytes]
#: One secret / key, or several (during a rotation).
_Keys = Union[_Key, Iterable[_Key]]
#: HubSpot signature version names ("v1", "v2", "v3"): one, or several.
_Versions = Union[str, Iterable[str]]
#: A spool as the layer takes it: a ready :class:`Spool` or its directory.
_SpoolLike = Union[Spool, _Path]
#: A fixed clock: a datetime (naive means UTC) or Unix seconds.
_Clock = Union[datetime.datetime, int, float]
#: A webhook configuration as JSON: its sections are arbitrary JSON values (lists of keys,
#: board column maps ...), which the library validates; Any because a recursive JSON type
#: would reject every dict the caller has not annotated with it (dict is invariant).
_ConfigDict = Dict[str, Any]


@runtime_checkable
class _HeaderMapping(Protocol):
    """Headers with ``items()``: a dict, or a web framework's header object (a Protocol, not
    Mapping, since those are often not Mappings; checked at run time by ``items`` alone)."""

    def items(self) -> Iterable[Tuple[str, Optional[str]]]: ...


#: A request's headers: ``items()`` or (name, value) pairs; None values are left out.
_Headers = Union[_HeaderMapping, Iterable[Tuple[str, Optional[str]]], None]

# -- HubSpot -----------------------------------------------------------------------------

_HUBSPOT_VERSIONS: Dict[str, int] = {"v1": _core.HUBSPOT_VERSION_V1, "v2": _core.HUBSPOT_VERSION_V2,
                     "v3": _core.HUBSPOT_VERSION_V3}


class HubSpotVerifier:
    """Verifies HubSpot webhook signatures (docs/hubspot.md). Holds one or more client secrets
    (several during a rotation; wiped from memory when the object is collected), the accepted
    versions (default only "v3"), the replay window and the body limit::

        verifier = fastepost.HubSpotVerifier(secrets=[os.environ["HUBSPOT_CLIENT_SECRET"]])
        verifier.verify(method="POST", uri=public_url, body=raw_body,
                        signature=headers.get("X-HubSpot-Signature-v3"),
                        timestamp=headers.get("X-HubSpot-Request-Timestamp"))

    :param secrets: client secrets (str)
    :param versions: accepted signature versions, e.g. ``("v3",)`` or ``("v1", "v2", "v3")``
    :param tolerance_ms: replay window in both directions (default 300000, HubSpot's 5 min)
    :param now_ms: a fixed clock (tests, replays); None for the system clock
    :param max_body: largest body accepted, in bytes (default 1 MiB)
    """

    def __init__(self, secrets: _Keys = (), *, versions: Optional[_Versions] = None,
                 tolerance_ms: Optional[int] = None, now_ms: Optional[int] = None,
                 max_body: Optional[int] = None) -> None:
        self._lock = threading.Lock()
        self._v = _core.HubSpotVerifier()
        if isinstance(secrets, (str, bytes)):
            secrets = [secrets]
        for secret in secrets:
            self.add_secret(secret)
        if versions is not None:
            self.versions = versions
        if tolerance_ms is not None:
            if int(tolerance_ms) < 1:
                raise InvalidError("the HubSpot tolerance must be 1 ms or more")
            _core.hubspot_verifier_set_tolerance(self._v, int(tolerance_ms) * 1000)
        if now_ms is not None:
            self.now_ms = now_ms
        if max_body is not None:
            _core.hubspot_verifier_set_max_body(self._v, int(max_body))

    def add_secret(self, secret: _Key) -> None:
        """Add a client secret (at most 8; TooBigError beyond)."""
        with self._lock:
            _core.hubspot_verifier_add_secret(self._v, secret)

    def clear_secrets(self) -> None:
        """Forget every secret: every request then fails with NoKeyError."""
        with self._lock:
            _core.hubspot_verifier_clear_secrets(self._v)

    # The getters of the write-only properties are typed as their setters: mypy checks an
    # assignment against the getter's type.
    @property
    def versions(self) -> _Versions:
        raise AttributeError("versions is write-only")

    @versions.setter
    def versions(self, names: _Versions) -> None:
        if isinstance(names, str):
            names = [names]
        bits = 0
        for name in names:
            if name not in _HUBSPOT_VERSIONS:
                raise ValueError(f"unknown HubSpot signature version {name!r}")
            bits |= _HUBSPOT_VERSIONS[name]
        with self._lock:
            _core.hubspot_verifier_set_versions(self._v, bits)

    @property
    def now_ms(self) -> Optional[int]:
        raise AttributeError("now_ms is write-only")

    @now_ms.setter
    def now_ms(self, ms: Optional[int]) -> None:
        """A fixed clock in ms since the epoch; None returns to the system clock."""
        if ms is not None and int(ms) < 0:
            raise InvalidError("now_ms must not be negative")
        with self._lock:
            # The library takes microseconds; 0 is its "system clock".
            _core.hubspot_verifier_set_now(self._v, 0 if ms is None else max(int(ms) * 1000, 1))

    def verify(self, *, method: Optional[str], uri: Optional[str], body: Union[bytes, str],
               signature: Optional[str], timestamp: Optional[str] = None,
               version: Optional[str] = "v3") -> int:
        """Verify one request over the exact body bytes received (bytes; a str is taken as
        UTF-8). Header values may be None when missing. Returns the index of the secret that
        matched. Raises :class:`AuthError` (refuse the request: the message says why),
        :class:`NoKeyError` (no secret configured), :class:`TooBigError` (body over the
        limit), :class:`InvalidError` (unknown version name)."""
        with self._lock:
            return _core.hubspot_verify(self._v, version, method, uri, timestamp, signature, body)


class _Unset(enum.Enum):
    """The default of an option whose None means something else than "not given"."""

    UNSET = enum.auto()


def hubspot_verify(secret: _Keys, *, method: Optional[str], uri: Optional[str],
                   body: Union[bytes, str], signature: Optional[str],
                   timestamp: Optional[str] = None, version: str = "v3",
                   versions: Union[_Versions, None, Literal[_Unset.UNSET]] = _Unset.UNSET,
                   tolerance_ms: Optional[int] = None, now_ms: Optional[int] = None,
                   max_body: Optional[int] = None) -> int:
    """Verify one request with a one-off :class:`HubSpotVerifier` (``secret`` a str or a list
    of them; options as for the class, e.g. ``versions=("v1", "v2", "v3")`` to accept v1/v2
    when ``version`` names them; not given: ``version`` alone). Returns the index of the
    matching secret; raises as :meth:`HubSpotVerifier.verify`."""
    # None given explicitly is the class's default (v3 only), as when the options were **kwargs.
    return HubSpotVerifier(
        secret, versions=(version,) if versions is _Unset.UNSET else versions,
        tolerance_ms=tolerance_ms, now_ms=now_ms, max_body=max_body).verify(
        method=method, uri=uri, body=body, signature=signature, timestamp=timestamp,
        version=version)


def hubspot_sign(secret: _Key, *, body: Union[bytes, str], method: Optional[str] = None,
                 uri: Optional[str] = None, timestamp: Union[str, int, None] = None,
                 version: str = "v3") -> str:
    """The signature HubSpot would send (Base64 for v3, hex for v1/v2), to test an endpoint."""
    if version not in _HUBSPOT_VERSIONS:
        raise ValueError(f"unknown HubSpot signature version {version!r}")
    if timestamp is not None:
        timestamp = str(timestamp)
    return _core.hubspot_sign(_HUBSPOT_VERSIONS[version], secret, method, uri, timestamp, body)


def hubspot_decode_uri(uri: str) -> str:
    """The URI as HubSpot decodes it before signing with v3 (12 escapes decoded)."""
    return _core.hubspot_decode_uri(uri)


# -- Odoo deliveries and the event log --------------------------------------------------

def status_http(code: int) -> int:
    """The HTTP status a webhook endpoint answers for a status code (0 -> 200, ParseError ->
    400, AuthError -> 401, ConflictError -> 409, TooBigError -> 413, ConnectionError/BusyError
    -> 503, else 500)."""
    return _core.status_http(int(code))


def odoo_authenticate(expected: Optional[_Key], presented: Optional[_Key]) -> Literal[True]:
    """Check the key an Odoo request presented (header ``X-Odoo-Api-Key`` or ``?api_key=``)
    in constant time. ``expected`` None reads ``ODOO_API_KEY`` (at call time). Returns True;
    raises :class:`NoKeyError` when no key is configured, :class:`AuthError` for a missing or
    wrong key (both have ``http_status`` 401). :meth:`Connection.odoo_process` checks the key
    itself: this is for hosts that check it elsewhere."""
    if expected is None:
        expected = os.environ.get("ODOO_API_KEY")
    _core.odoo_authenticate(expected, presented)
    return True


def _has_nul(key: _Key) -> bool:
    return b"\0" in key if isinstance(key, bytes) else "\0" in key


def _expected_keys(expected_keys: Optional[_Keys]) -> List[_Key]:
    """The accepted keys as a list: None reads ``ODOO_API_KEY`` now (a list of one, or none:
    then every request is refused with NoKeyError); one str or bytes is a list of one."""
    if expected_keys is None:
        key = os.environ.get("ODOO_API_KEY")
        return [key] if key else []
    if isinstance(expected_keys, (str, bytes)):
        expected_keys = [expected_keys]
    keys = list(expected_keys)
    for k in keys:
        if not isinstance(k, (str, bytes)):
            raise TypeError(f"an expected key must be str or bytes, not {type(k).__name__}")
        if not k or _has_nul(k):
            raise InvalidError("an expected Odoo API key must not be empty or contain a NUL byte")
    return keys


def _presented_key(api_key: Optional[_Key]) -> Optional[_Key]:
    """None, "" and a key with a NUL byte all reach the library as no key or a wrong one."""
    if api_key is None or isinstance(api_key, (str, bytes)):
        if api_key is not None and _has_nul(api_key):
            return ""
        return api_key
    raise TypeError(f"api_key must be str or bytes, not {type(api_key).__name__}")


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


def _spool(spool: Optional[_SpoolLike]) -> Optional[Spool]:
    if spool is None or isinstance(spool, Spool):
        return spool
    return Spool(spool)


def _odoo_process(conn: Optional["_WebhookMethods"], body: _RawBody, api_key: Optional[_Key],
                  expected_keys: Optional[_Keys], host_authenticated: bool, event: Optional[str],
                  content_type: Optional[str], max_body: Optional[int], max_depth: Optional[int],
                  barcode_fields: Optional[str], spool: Optional[_SpoolLike]) -> EventResult:
    keys = _expected_keys(expected_keys)
    api_key = _presented_key(api_key)
    spool = _spool(spool)
    args = (_body(body), api_key, keys, int(bool(host_authenticated)), event, content_type,
            int(max_body or 0), int(max_depth or 0), barcode_fields)
    try:
        if conn is None:
            if spool is None:
                raise InvalidError("odoo_process without a connection needs a spool")
            with spool._lock:
                d = _core.odoo_process(None, *args, spool._s)
        else:
            with conn._lock:
                if spool is None:
                    d = _core.odoo_process(conn._conn, *args, None)
                else:
                    with spool._lock:
                        d = _core.odoo_process(conn._conn, *args, spool._s)
    except Error as e:
        _attach_result(e, lambda r: EventResult(**r))
        raise
    return EventResult(**d)


def odoo_process(body: _RawBody, conn: Optional["Connection"] = None, *,
                 api_key: Optional[_Key] = None, expected_keys: Optional[_Keys] = None,
                 spool: Optional[_SpoolLike] = None, host_authenticated: bool = False,
                 event: Optional[str] = None, content_type: Optional[str] = None,
                 max_body: Optional[int] = None, max_depth: Optional[int] = None,
                 barcode_fields: Optional[str] = None) -> EventResult:
    """:meth:`Connection.odoo_process` for a host that may have no connection: with ``conn``
    None (connecting failed) the delivery goes straight to ``spool`` (a :class:`Spool` or a
    directory; required then) and the result says "spooled", ``http_status`` 202. The key is
    checked first, also then: a refused request is never spooled."""
    return _odoo_process(conn, body, api_key, expected_keys, host_authenticated, event,
                         content_type, max_body, max_depth, barcode_fields, spool)


class _WebhookMethods:
    """The webhook and event-log methods of :class:`fastepost.Connection` (mixed in there:
    they use its ``_lock`` and ``_conn``)."""

    _lock: "_CallLock"
    _conn: _core.Conn

    def odoo_process(self, body: _RawBody, api_key: Optional[_Key] = None,
                     expected_keys: Optional[_Keys] = None, event: Optional[str] = None,
                     content_type: Optional[str] = None, max_body: Optional[int] = None,
                     max_depth: Optional[int] = None, barcode_fields: Optional[str] = None,
                     spool: Optional[_SpoolLike] = None, *,
                     host_authenticated: bool = False) -> EventResult:
        """Process one Odoo webhook delivery (the raw body, bytes or str) into customers,
        remarks and task links; see docs/odoo.md. Returns an :class:`EventResult`.

        :param api_key: the key the request presented (the ``X-Odoo-Api-Key`` header, else the
            ``api_key`` query parameter); None or "" when it carried none. Always checked,
            before anything is written: a missing, empty or wrong key raises
            :class:`AuthError` (``http_status`` 401) and writes nothing.
        :param expected_keys: the accepted keys, a list (several while a key is rotated) or
            one str; None reads the ``ODOO_API_KEY`` environment variable at call time. No
            key configured raises :class:`NoKeyError` (401) for every request.
        :param host_authenticated: True only when the host has authenticated the request
            itself (then ``api_key`` is ignored): the explicit opt-out of the key check.
        :param event: the URL's ``?event=`` hint: "create", "write", "unlink", "archive"
        :param content_type: the request's Content-Type (JSON or form-urlencoded)
        :param max_body: largest body accepted (default 1 MiB)
        :param max_depth: deepest JSON nesting accepted (2..1000)
        :param barcode_fields: the fields matched against ``tasks.barcode``, comma-separated
        :param spool: a :class:`Spool` or a directory: a delivery that cannot reach the
            database is written there instead; the result's ``outcome`` is "spooled" and its
            ``http_status`` 202 (docs/spool.md)
        :raises ParseError, InvalidError, ConflictError, TooBigError, ConnectionError ...:
            with ``e.result``, the :class:`EventResult` (the event is logged), and
            ``e.http_status`` to answer."""
        return _odoo_process(self, body, api_key, expected_keys, host_authenticated, event,
                             content_type, max_body, max_depth, barcode_fields, spool)

    def odoo_process_batch(self, bodies: Iterable[_RawBody],
                           api_key: Union[_Key, List[Optional[_Key]],
                                          Tuple[Optional[_Key], ...], None] = None,
                           expected_keys: Optional[_Keys] = None, event: Optional[str] = None,
                           content_type: Optional[str] = None, max_body: Optional[int] = None,
                           max_depth: Optional[int] = None, barcode_fields: Optional[str] = None,
                           *, host_authenticated: bool = False) -> EventBatch:
        """Process several deliveries in one transaction (each in a savepoint: a failing one
        does not affect the others). Returns an :class:`EventBatch` (iterable: one
        :class:`EventResult` per body, each with its own ``code``). Raises when the batch could
        not be committed (``e.result`` the batch). Never spools: a batch is all or nothing.

        :param api_key: the key each request presented: a list with one per body, or one key
            for all; checked as by :meth:`odoo_process`, and a refused delivery gets its own
            401 result (``code`` AuthError or NoKeyError) without anything written."""
        keys = _expected_keys(expected_keys)
        raw = [_body(b) for b in bodies]
        presented: List[_Key]
        if isinstance(api_key, (list, tuple)):
            if len(api_key) != len(raw):
                raise InvalidError(f"{len(api_key)} keys for {len(raw)} bodies")
            presented = [_presented_key(k) or "" for k in api_key]
        else:
            presented = [_presented_key(api_key) or ""] * len(raw)
        try:
            with self._lock:
                rs = _core.odoo_process_batch(self._conn, raw, presented, keys,
                                              int(bool(host_authenticated)), event, content_type,
                                              int(max_body or 0), int(max_depth or 0), barcode_fields)
        except Error as e:
            _attach_result(e, EventBatch._from)
            raise
        return EventBatch._from(rs)

    def hubspot_process(self, body: _RawBody, secrets: _Keys = (), *,
                        method: Optional[str] = "POST", uri: Optional[str] = None,
                        timestamp: Union[str, int, None] = None,
                        signature: Optional[str] = None, version: Optional[str] = "v3",
                        now_ms: Optional[int] = None, max_events: Optional[int] = None,
                        verifier: Optional[HubSpotVerifier] = None) -> EventBatch:
        """Verify a HubSpot webhook request and ingest its batch (docs/hubspot.md). Pass
        ``secrets`` (the app's client secrets) or a ready :class:`HubSpotVerifier`. Header
        values may be None when missing. Returns an :class:`EventBatch` (events that failed
        alone are in it with their own code). A refused request raises :class:`AuthError`,
        :class:`NoKeyError`, :class:`ParseError`, :class:`TooBigError` ... with
        ``http_status`` and ``result`` (the :class:`EventBatch`, no events)."""
        if verifier is None:
            if isinstance(secrets, (str, bytes)):
                secrets = [secrets]
            verifier = HubSpotVerifier(secrets, versions=(version,) if version else None,
                                       now_ms=now_ms)
        if timestamp is not None:
            timestamp = str(timestamp)
        try:
            with self._lock, verifier._lock:
                d = _core.hubspot_process(self._conn, verifier._v, version, method, uri,
                                          timestamp, signature, _body(body), int(max_events or 0))
        except Error as e:
            _attach_result(e, EventBatch._from)
            raise
        return EventBatch._from(d)

    def webhook_process(self, source: str, body: _RawBody, headers: _Headers = None,
                        config: "_Config" = None, method: Optional[str] = "POST",
                        url: Optional[str] = "", spool: Optional[_SpoolLike] = None,
                        clock: Optional[_Clock] = None) -> "WebhookResponse":
        """Process one webhook request from any CRM ("odoo", "hubspot", "pipedrive", "monday",
        "salesforce", "zoho"; see :func:`webhook_sources`) and return the :class:`WebhookResponse`
        to send: a monday.com challenge is answered, the request is verified (constant time; no
        configuration for the source: 401), parsed into its events and applied in one transaction.
        Never raises for what the request did: a refused (401), malformed (400) or unprocessable
        (503) request is a response too (``raise_for_status()`` turns it into an exception).

        :param body: the raw body, bytes (or str, as UTF-8)
        :param headers: the request's headers, a dict or (name, value) pairs (names compare
            without regard to case; None values are left out)
        :param config: a :class:`WebhookConfig` (build it once), or a dict / JSON text parsed for
            this call; None refuses every source
        :param method: the HTTP method as received
        :param url: the full public URL the request was sent to (monday.com's JWT ``aud``,
            HubSpot's signature)
        :param spool: with a dict config: a :class:`Spool` or directory (see :class:`WebhookConfig`)
        :param clock: with a dict config: a fixed clock (datetime or Unix seconds)
        :raises TypeError, InvalidError: the caller's mistakes (a header that is not a str or holds
            a NUL byte, a config that is not JSON or has an unknown key)
        """
        return _webhook_process(self, source, body, headers, config, method, url, spool, clock)

    def events(self, source: Optional[str] = None, status: Optional[str] = None,
               limit: Optional[int] = 50) -> List[Event]:
        """The newest integration events as :class:`Event` objects, optionally only of one
        ``source`` ("odoo", "hubspot") or ``status`` ("pending", "success", "error", "dead");
        ``limit`` 0 or None for the library's default (100)."""
        limit = int(limit or 0)
        if limit < 0:
            raise InvalidError(f"the limit must not be negative, not {limit}")
        with self._lock:
            return [Event(**d) for d in _core.events_list(self._conn, source, status, limit)]

    def events_retry(self, limit: Optional[int] = 100,
                     config: Optional["WebhookConfig"] = None) -> RetryReport:
        """Process again the events that failed transiently and are due (at most ``limit``;
        0 or None for the library's default, 100); a :class:`RetryReport`. ``config``: the
        :class:`WebhookConfig` the deliveries came in with, so that each payload is read with
        its source's section (Odoo's barcode fields, monday's board columns); None for none."""
        limit = int(limit or 0)
        if limit < 0:
            raise InvalidError(f"the limit must not be negative, not {limit}")
        if config is not None and not isinstance(config, WebhookConfig):
            raise TypeError(f"config must be a WebhookConfig or None, not {type(config).__name__}")
        with self._lock:
            if config is None:
                return RetryReport(**_core.events_retry(self._conn, limit))
            return RetryReport(**_core.webhook_events_retry(self._conn, limit, config._c))

    def prune_events(self, older_than_days: int, status: str = "success",
                     batch_size: int = 0) -> PruneReport:
        """Delete the events older than ``older_than_days`` (7 or more) in short batches of
        ``batch_size`` rows (0: 1000); ``status`` "success" or "all". A :class:`PruneReport`.

        :raises InvalidError: fewer than 7 days, an unknown status or batch size; nothing deleted
        :raises DatabaseError: a batch failed (the exception's ``report`` has what was deleted)
        """
        with self._lock:
            try:
                d = _core.events_prune(self._conn, int(older_than_days), status, int(batch_size))
            except Error as e:
                if isinstance(getattr(e, "report", None), dict):
                    e.report = PruneReport(**e.report)
                raise
        return PruneReport(**d)


# -- Every CRM through one entry (docs/webhooks.md) ---------------------------------------

def webhook_sources() -> List[str]:
    """The sources :meth:`Connection.webhook_process` accepts, in the library's order:
    ``["odoo", "hubspot", "pipedrive", "monday", "salesforce", "zoho"]``."""
    return _core.webhook_sources()


def _now_us(clock: _Clock) -> int:
    """A fixed clock as microseconds since the epoch: a datetime (naive means UTC) or Unix
    seconds (int or float, as the CLI's ``--now``)."""
    if isinstance(clock, datetime.datetime):
        if clock.tzinfo is None:
            clock = clock.replace(tzinfo=datetime.timezone.utc)
        return int(clock.timestamp() * 1_000_000)
    if isinstance(clock, bool) or not isinstance(clock, (int, float)):
        raise TypeError(f"clock must be a datetime or Unix seconds, not {type(clock).__name__}")
    if clock <= 0:
        raise InvalidError("clock must be after 1970")
    return int(clock * 1_000_000)


class WebhookConfig:
    """The configuration of every CRM source a host accepts webhooks from (keys, secrets,
    organisation ids, board columns), parsed once and reused by every request, from every
    thread (it is read-only once made)::

        config = fastepost.WebhookConfig({"pipedrive": {"basic_auth": ["user:password"]},
                                          "salesforce": {"organization_ids": ["00D..."]}})
        response = conn.webhook_process("pipedrive", body, headers=headers, config=config)

    :param config: a dict of source sections (serialised to JSON), JSON text (str or bytes), or
        None for none: then every source is refused (401). The keys are those of the CLI's
        ``--config`` file (docs/webhooks.md); an unknown source or key, or a wrong type, raises
        :class:`InvalidError` naming it (never a secret's value).
    :param spool: a :class:`Spool` or a directory: a verified request that meets an unreachable
        database is kept there and answered 202 (Salesforce: its acknowledgement)
    :param clock: a fixed processing clock (tests, replays): a datetime or Unix seconds; None
        for the real clocks
    """

    spool: Optional[Spool]
    _c: _core.WebhookConfig

    def __init__(self, config: Union[_ConfigDict, str, bytes, bytearray, None] = None, *,
                 spool: Optional[_SpoolLike] = None, clock: Optional[_Clock] = None) -> None:
        if isinstance(config, dict):
            config = json.dumps(config)
        elif config is not None and not isinstance(config, (str, bytes, bytearray)):
            raise TypeError(f"config must be a dict or JSON text, not {type(config).__name__}")
        self.spool = _spool(spool)
        now = 0 if clock is None else _now_us(clock)
        self._c = _core.WebhookConfig(_body(config), self.spool._s if self.spool else None, now)

    @classmethod
    def from_file(cls, path: _Path, *, spool: Optional[_SpoolLike] = None,
                  clock: Optional[_Clock] = None) -> "WebhookConfig":
        """A configuration from a JSON file (the CLI's ``--config FILE``); ``spool`` and
        ``clock`` as for the class."""
        with open(path, "rb") as f:
            return cls(f.read(), spool=spool, clock=clock)

    def has_source(self, source: str) -> bool:
        """True when the configuration has a section for ``source``."""
        return bool(_core.webhook_config_has_source(self._c, source))

    def sources(self) -> List[str]:
        """The sources with a section, in the library's order."""
        return [s for s in webhook_sources() if self.has_source(s)]

    def __repr__(self) -> str:
        return f"WebhookConfig(sources={self.sources()!r})"


#: A webhook configuration as :meth:`Connection.webhook_process` takes it.
_Config = Union[WebhookConfig, _ConfigDict, str, bytes, bytearray, None]


class WebhookEvent(_EventFields):
    """One event of a webhook request: the fields of an :class:`EventResult` of a batch
    (``index``, ``event_type``, ``object_id`` ...) and ``external_id``, the CRM's record
    ("person:42"), or None when the event was refused before it was read."""

    __slots__ = EventResult.__slots__ + ("external_id",)
    external_id: Optional[str]


# An event's keys in `fastepost webhook process --json`.
_CLI_EVENT_KEYS = ("index", "event_id", "outcome", "customer_id", "remark_id", "external_id", "error")


class WebhookResponse:
    """What to answer a CRM and what its request did (:meth:`Connection.webhook_process`):
    ``http_status``, ``content_type`` and ``body`` (bytes) to send as they are; ``code`` (0 or
    the error code) and ``status`` ("ok" or the error name); ``spooled`` (kept in the spool,
    202), ``handshake`` (a challenge answered, nothing processed); ``error`` (the message, or
    None; never a secret); ``events``, one :class:`WebhookEvent` per event the request carried.
    ``to_dict()`` has the keys of ``fastepost webhook process --json`` (each event's too: the
    :class:`WebhookEvent` objects have more)."""

    __slots__ = ("code", "status", "http_status", "content_type", "body", "spooled",
                 "handshake", "error", "events")
    code: int
    status: str
    http_status: int
    content_type: str
    body: bytes
    spooled: bool
    handshake: bool
    error: Optional[str]
    events: List[WebhookEvent]

    def __init__(self, d: Dict[str, Any]) -> None:
        for k in self.__slots__[:-1]:
            setattr(self, k, d[k])
        self.events = [WebhookEvent(**e, external_id=x)
                       for e, x in zip(d["batch"]["events"], d["external_ids"])]

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.http_status < 300

    def raise_for_status(self) -> "WebhookResponse":
        """Raise the code's exception class (:class:`AuthError` ...) when the request failed,
        with ``result`` this response; returns self otherwise."""
        if self.code != 0:
            try:
                _core._raise_code(self.code, self.error or "", "")
            except Error as e:
                e.result = self
                raise
        return self

    @property
    def text(self) -> str:
        """The body as text (UTF-8; undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def _utf8(self) -> Optional[str]:
        """The body as text, or None when it is not UTF-8 (as the CLI's ``--json`` prints it)."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def to_dict(self) -> Dict[str, Any]:
        return {"status": self.status, "http_status": self.http_status,
                "response": {"content_type": self.content_type, "body": self._utf8()},
                "events": [{k: getattr(e, k) for k in _CLI_EVENT_KEYS} for e in self.events],
                "error": self.error}

    def __repr__(self) -> str:
        return (f"WebhookResponse(status={self.status!r}, http_status={self.http_status}, "
                f"events={len(self.events)})")


def _headers(headers: _Headers) -> List[str]:
    """A flat [name, value, ...] list from a dict or a list of (name, value) pairs."""
    if headers is None:
        return []
    # (isinstance of the runtime-checkable protocol is hasattr(headers, "items"))
    items = headers.items() if isinstance(headers, _HeaderMapping) else headers
    flat: List[str] = []
    for name, value in items:
        if value is None:
            continue
        for part in (name, value):
            if not isinstance(part, str):
                raise TypeError(f"header names and values must be str, not {type(part).__name__}")
        flat += [name, value]
    return flat


def _webhook_config(config: _Config, spool: Optional[_SpoolLike],
                    clock: Optional[_Clock]) -> WebhookConfig:
    if isinstance(config, WebhookConfig):
        if spool is not None or clock is not None:
            raise InvalidError("give spool and clock to the WebhookConfig itself")
        return config
    return WebhookConfig(config, spool=spool, clock=clock)


def _webhook_process(conn: Optional[_WebhookMethods], source: str, body: _RawBody,
                     headers: _Headers, config: _Config, method: Optional[str],
                     url: Optional[str], spool: Optional[_SpoolLike],
                     clock: Optional[_Clock]) -> WebhookResponse:
    if not isinstance(source, str):
        raise TypeError(f"source must be str, not {type(source).__name__}")
    cfg = _webhook_config(config, spool, clock)
    args = (source, method, url or "", _headers(headers), _body(body), cfg._c)
    spool_lock: ContextManager[object] = contextlib.nullcontext()
    if cfg.spool:
        spool_lock = cfg.spool._lock
    if conn is None:
        if cfg.spool is None:
            raise InvalidError("webhook_process without a connection needs a spool")
        with spool_lock:
            return WebhookResponse(_core.webhook_process(None, *args))
    with conn._lock, spool_lock:
        return WebhookResponse(_core.webhook_process(conn._conn, *args))


def webhook_process(source: str, body: _RawBody, conn: Optional["Connection"] = None, *,
                    headers: _Headers = None, config: _Config = None,
                    method: Optional[str] = "POST", url: Optional[str] = "",
                    spool: Optional[_SpoolLike] = None,
                    clock: Optional[_Clock] = None) -> WebhookResponse:
    """:meth:`Connection.webhook_process` for a host that may have no connection: with ``conn``
    None (connecting failed) a verified request goes to the configuration's spool (202); a
    refused one is answered 401 as ever. Without a spool that is :class:`InvalidError`: answer
    the connection failure itself (503)."""
    return _webhook_process(conn, source, body, headers, config, method, url, spool, clock)
