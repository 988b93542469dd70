# SPDX-License-Identifier: MIT
"""The delivery spool (docs/spool.md): deliveries that arrive while PostgreSQL is unreachable
are written to a directory and replayed later."""

import datetime
import os
import threading
from typing import TYPE_CHECKING, Any, List, Optional, Union

from . import core as _core
from ._support import Result, _Path, _body

if TYPE_CHECKING:
    from .connection import Connection
    from .webhook_entry import WebhookConfig

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class SpoolEntry(Result):
    """One spooled delivery, with the keys of ``fastepost spool list --json``: file ``name``,
    ``source`` ("odoo"; "?" for an unreadable file), ``event`` hint (None for none),
    ``content_type``, body size ``bytes``, ``spooled_at_us`` (microseconds since the epoch,
    UTC; also as a :class:`datetime.datetime`: ``spooled_at``) and ``reason`` (None for a good
    record; else why it cannot be replayed: "unreadable: ...", "corrupt: ...", "altered: ...",
    "refused: ...")."""

    __slots__ = ("name", "source", "event", "content_type", "bytes", "spooled_at_us", "reason")
    name: str
    source: str
    event: Optional[str]
    content_type: str
    bytes: int
    spooled_at_us: int
    reason: Optional[str]

    @classmethod
    def _from(cls, d: "dict[str, Any]") -> "SpoolEntry":
        return cls(**d)

    @property
    def spooled_at(self) -> datetime.datetime:
        """``spooled_at_us`` as a UTC :class:`datetime.datetime`."""
        return _EPOCH + datetime.timedelta(microseconds=self.spooled_at_us)


class SpoolReplayReport(Result):
    """What :meth:`Spool.replay` did (the keys of ``fastepost spool replay --json``):
    ``replayed`` (committed, of which ``duplicates`` were in the database already),
    ``rejected`` (kept as <name>.bad) and ``remaining``."""

    __slots__ = ("status", "replayed", "duplicates", "rejected", "remaining")
    status: str
    replayed: int
    duplicates: int
    rejected: int
    remaining: int


class Spool:
    """A spool directory for deliveries that arrive while PostgreSQL is unreachable
    (docs/spool.md); created with mode 0700 when missing. Writing a record (fsync) and replay
    run with the GIL released."""

    def __init__(self, dir: _Path,
                 max_files: Optional[int] = None, max_bytes: Optional[int] = None) -> None:
        self._lock = threading.RLock()
        self.dir = os.fsdecode(dir)
        self._s = _core.Spool(self.dir)
        if max_files is not None or max_bytes is not None:
            _core.spool_set_limits(
                self._s, _core.SPOOL_DEFAULT_MAX_FILES if max_files is None else int(max_files),
                _core.SPOOL_DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes))

    def put(self, body: Union[bytes, bytearray, memoryview, str], source: str = "odoo",
            event: Optional[str] = None, content_type: Optional[str] = None) -> str:
        """Spool one delivery durably; returns the file name. :class:`FullError` (HTTP 503)
        when the spool or its disk is full, or its directory is unusable (:attr:`warning`)."""
        with self._lock:
            return _core.spool_put(self._s, source, event, content_type, _body(body))

    def list(self) -> List[SpoolEntry]:
        """The spooled deliveries, oldest first (replay order), as :class:`SpoolEntry`."""
        with self._lock:
            return [SpoolEntry._from(d) for d in _core.spool_list(self._s)]

    def list_bad(self) -> List[SpoolEntry]:
        """The records replays set aside (``<name>.bad``), each with its ``reason``."""
        with self._lock:
            return [SpoolEntry._from(d) for d in _core.spool_list_bad(self._s)]

    def requeue(self, name: str) -> str:
        """Put the fixed set-aside record ``name`` (with or without ".bad") back; returns it."""
        with self._lock:
            return _core.spool_requeue(self._s, name)

    @property
    def warning(self) -> Optional[str]:
        """Why the directory is unusable (with the fix), or None. Deliveries the database
        accepts still succeed; only spooling fails then."""
        with self._lock:
            return _core.spool_warning(self._s)

    def replay(
        self, conn: "Connection", limit: Optional[int] = 0, config: "Optional[WebhookConfig]" = None
    ) -> SpoolReplayReport:
        """Process the spooled deliveries into ``conn``'s database, oldest first, each exactly
        once; returns a :class:`SpoolReplayReport`. Stops (raising) when the database fails;
        what was committed stays committed. ``config``: the :class:`WebhookConfig` the
        deliveries came in with, so that each is read with its source's section (monday's
        board columns, Odoo's barcode fields ...); None for none."""
        from .webhook_entry import WebhookConfig  # noqa: F811 (at run time: webhook_entry imports this module)

        if config is not None and not isinstance(config, WebhookConfig):
            raise TypeError(f"config must be a WebhookConfig or None, not {type(config).__name__}")
        with conn._lock, self._lock:
            if config is None:
                return SpoolReplayReport(**_core.spool_replay(self._s, conn._conn, int(limit or 0)))
            return SpoolReplayReport(
                **_core.webhook_spool_replay(self._s, conn._conn, int(limit or 0), config._c)
            )

    def __repr__(self) -> str:
        return f"<fastepost.Spool {self.dir!r}>"


#: A spool as the layer takes it: a ready :class:`Spool` or its directory.
_SpoolLike = Union[Spool, _Path]


def _spool(spool: Optional[_SpoolLike]) -> Optional[Spool]:
    if spool is None or isinstance(spool, Spool):
        return spool
    return Spool(spool)
