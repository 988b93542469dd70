"""The delivery spool (docs/spool.md): deliveries that arrive while PostgreSQL is unreachable
are written to a directory and replayed later."""

import datetime
import os
import threading

from . import core as _core
from ._support import Result, _body

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class SpoolEntry(Result):
    """One spooled delivery: file ``name``, ``source`` ("odoo"; "?" for an unreadable file),
    ``event`` hint ("" for none), ``content_type``, body size ``bytes``, ``spooled_at`` (a
    UTC :class:`datetime.datetime`) and ``reason`` ("" for a good record; else why it cannot
    be replayed: "unreadable: ...", "corrupt: ...", "altered: ...", "refused: ...")."""

    __slots__ = ("name", "source", "event", "content_type", "bytes", "spooled_at", "reason")

    @classmethod
    def _from(cls, d):
        return cls(**dict(d, spooled_at=_EPOCH + datetime.timedelta(microseconds=d["spooled_at"])))


class SpoolReplayReport(Result):
    """What :meth:`Spool.replay` did: ``replayed`` (committed, of which ``duplicates`` were in
    the database already), ``rejected`` (kept as <name>.bad) and ``remaining``."""

    __slots__ = ("replayed", "duplicates", "rejected", "remaining")


class Spool:
    """A spool directory for deliveries that arrive while PostgreSQL is unreachable
    (docs/spool.md); created with mode 0700 when missing. Writing a record (fsync) and replay
    run with the GIL released."""

    def __init__(self, dir, max_files=None, max_bytes=None):
        self._lock = threading.RLock()
        self.dir = os.fsdecode(dir)
        self._s = _core.Spool(self.dir)
        if max_files is not None or max_bytes is not None:
            _core.spool_set_limits(
                self._s, _core.SPOOL_DEFAULT_MAX_FILES if max_files is None else int(max_files),
                _core.SPOOL_DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes))

    def put(self, body, source="odoo", event=None, content_type=None):
        """Spool one delivery durably; returns the file name. :class:`FullError` (HTTP 503)
        when the spool or its disk is full, or its directory is unusable (:attr:`warning`)."""
        with self._lock:
            return _core.spool_put(self._s, source, event, content_type, _body(body))

    def list(self):
        """The spooled deliveries, oldest first (replay order), as :class:`SpoolEntry`."""
        with self._lock:
            return [SpoolEntry._from(d) for d in _core.spool_list(self._s)]

    def list_bad(self):
        """The records replays set aside (``<name>.bad``), each with its ``reason``."""
        with self._lock:
            return [SpoolEntry._from(d) for d in _core.spool_list_bad(self._s)]

    def requeue(self, name):
        """Put the fixed set-aside record ``name`` (with or without ".bad") back; returns it."""
        with self._lock:
            return _core.spool_requeue(self._s, name)

    @property
    def warning(self):
        """Why the directory is unusable (with the fix), or None. Deliveries the database
        accepts still succeed; only spooling fails then."""
        with self._lock:
            return _core.spool_warning(self._s)

    def replay(self, conn, limit=0):
        """Process the spooled deliveries into ``conn``'s database, oldest first, each exactly
        once; returns a :class:`SpoolReplayReport`. Stops (raising) when the database fails;
        what was committed stays committed."""
        with conn._lock, self._lock:
            return SpoolReplayReport(**_core.spool_replay(self._s, conn._conn, int(limit or 0)))

    def __repr__(self):
        return f"<fastepost.Spool {self.dir!r}>"
