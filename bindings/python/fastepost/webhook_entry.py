# SPDX-License-Identifier: MIT
"""Every CRM through one entry (docs/webhooks.md): :class:`WebhookConfig`, what a request did
(:class:`WebhookResponse`) and :func:`webhook_process` for a host that may have no connection
(:meth:`Connection.webhook_process` is in webhooks.py)."""

import contextlib
import datetime
import json
from typing import (TYPE_CHECKING, Any, ContextManager, Dict, Iterable, List, Optional, Protocol,
                    Tuple, Union, runtime_checkable)

from . import core as _core
from ._support import _body, _Path, _RawBody
from .core import Error, InvalidError
from .events import EventResult, _EventFields
from .spool import Spool, _spool, _SpoolLike

if TYPE_CHECKING:
    from .connection import Connection
    from .webhooks import _WebhookMethods

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


def _webhook_process(conn: Optional["_WebhookMethods"], source: str, body: _RawBody,
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
