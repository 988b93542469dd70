# SPDX-License-Identifier: MIT
"""The connection (:func:`connect`, :class:`Connection`) and the schema.

:class:`Connection` holds the lifecycle, the connection settings and the schema calls; the
methods of each other concern live with that concern, in one mixin class each
(transfer.py, webhooks.py, backup.py, stats.py), combined here.
"""

import os
import threading
import weakref
from types import TracebackType
from typing import Literal, Optional, Type, Union

from . import core as _core
from ._support import Result
from .backup import _BackupMethods
from .stats import _StatsMethods
from .transfer import _TransferMethods
from .webhooks import _WebhookMethods
from .odoo_sync import _OdooSyncMethods


def schema_sql() -> str:
    """The SQL of every schema migration, in order, as one script."""
    return _core.schema_sql()


class SchemaVersion(Result):
    """The schema version of a database (``current``) and the newest this library knows
    (``latest``)."""

    __slots__ = ("current", "latest")
    current: int
    latest: int

    def __init__(self, current: int, latest: int) -> None:
        self.current = current
        self.latest = latest

    @property
    def up_to_date(self) -> bool:
        return self.current == self.latest


def _microseconds(name: str, seconds: Union[int, float, None]) -> int:
    """Seconds (int or float; None: 0, the default) as the C API's int64 microseconds."""
    if seconds is None:
        return 0
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(seconds).__name__}")
    return int(round(seconds * 1_000_000))


def connect(dsn: str = "", **options: Optional[float]) -> "Connection":
    """Open a :class:`Connection`. ``dsn`` is a libpq connection string or URL; ``""`` uses
    the ``PG*`` environment variables. Keyword options as for :class:`Connection`."""
    return Connection(dsn, **options)


class _CallLock:
    """A connection's lock, taken around every call on it. The first call in a process forked
    after the connection was opened (gunicorn, multiprocessing with fork) reconnects first: the
    library refuses the parent's session in a child, and a fresh one is what a preloading
    server expects."""

    __slots__ = ("_lock", "_pid", "_core_conn", "__weakref__")
    _all: "weakref.WeakSet[_CallLock]" = weakref.WeakSet()

    def __init__(self, core_conn: _core.Conn) -> None:
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._core_conn = core_conn
        _CallLock._all.add(self)

    def __enter__(self) -> "_CallLock":
        self._lock.acquire()
        if self._pid != os.getpid():
            try:
                if _core.conn_is_open(self._core_conn):  # not closed by the caller
                    _core.conn_reset(self._core_conn)
                self._pid = os.getpid()
            except BaseException:
                self._lock.release()
                raise
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self._lock.release()
        return False

    @classmethod
    def _after_fork_in_child(cls) -> None:
        # A thread of the parent may have held a lock at fork(): that thread does not exist
        # here, so the lock would never be released.
        for lock in list(cls._all):
            lock._lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_CallLock._after_fork_in_child)


class Connection(_TransferMethods, _WebhookMethods, _OdooSyncMethods, _BackupMethods, _StatsMethods):
    """A connection to the PostgreSQL database holding the Fast Epost tables.

    Use it as a context manager to close it on exit::

        with fastepost.connect(dsn, statement_timeout=30) as conn:
            conn.schema_install()

    Every wait is bounded (docs/bindings.md): ``connect_timeout`` 10 s and TCP keepalives
    unless the dsn says otherwise, a statement timeout (default 30 s) and a lock timeout
    (default 5 s) in every transaction. :meth:`cancel` stops a call from another thread.
    After ``os.fork()`` the child's first call reconnects (the parent's session is untouched).

    :param dsn: libpq connection string or URL
    :param statement_timeout: seconds any one statement may run (``None`` or 0: the default,
        30; at most about 24.8 days); a longer one raises :class:`TimeoutError`
    :param lock_timeout: seconds a statement may wait for a lock (``None`` or 0: the default,
        5); a longer wait raises :class:`BusyError`
    :raises InvalidError: the connection string cannot be parsed
    :raises ConnectionError: the server cannot be reached, does not answer in time, or refuses
        the login
    :raises VersionError: the server is older than PostgreSQL 12
    """

    def __init__(self, dsn: str = "", *, statement_timeout: Optional[float] = None,
                 lock_timeout: Optional[float] = None) -> None:
        self._conn = _core.Conn(dsn)
        self._lock = _CallLock(self._conn)
        if statement_timeout is not None:
            self.statement_timeout = statement_timeout
        if lock_timeout is not None:
            self.lock_timeout = lock_timeout

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Disconnect now. Later calls raise :class:`ConnectionError` until :meth:`reset`.
        Safe to call twice; the memory goes when the object is garbage collected."""
        with self._lock:
            _core.conn_close(self._conn)

    def reset(self) -> None:
        """Reconnect with the same parameters (e.g. after the server restarted)."""
        with self._lock:
            _core.conn_reset(self._conn)

    def cancel(self) -> None:
        """Stop the call running on this connection in another thread: it raises
        :class:`CanceledError`. Safe from any thread (it does not wait for the call's lock);
        does nothing when no call runs. A call that runs pg_dump is not stopped."""
        _core.conn_cancel(self._conn)

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]:
        self.close()
        return False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the connection was never made)."""
        return not _core.conn_is_open(self._conn)

    def _require_open(self) -> None:
        if self.closed:
            _core._raise_code(_core.ECONN, "the connection is closed", "")

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"database={self.database!r}"
        return f"<fastepost.Connection {state}>"

    # -- connection ----------------------------------------------------------------------
    def ping(self) -> None:
        """Check that the server answers; raises :class:`ConnectionError` if not."""
        with self._lock:
            _core.conn_ping(self._conn)

    @property
    def server_version(self) -> int:
        """The server's version number (``150004`` for 15.4). Raises
        :class:`ConnectionError` when the connection is closed."""
        self._require_open()
        return _core.conn_server_version(self._conn)

    @property
    def database(self) -> str:
        """The name of the connected database. Raises :class:`ConnectionError` when the
        connection is closed."""
        self._require_open()
        return _core.conn_database(self._conn)

    @property
    def statement_timeout(self) -> float:
        """Seconds any one statement may run (default 30; setting ``None`` or 0 restores the
        default). Kept across :meth:`reset`."""
        return _core.conn_statement_timeout(self._conn) / 1_000_000

    @statement_timeout.setter
    def statement_timeout(self, seconds: Optional[float]) -> None:
        us = _microseconds("statement_timeout", seconds)
        with self._lock:
            _core.conn_set_statement_timeout(self._conn, us)

    @property
    def lock_timeout(self) -> float:
        """Seconds a statement may wait for a lock (default 5; setting ``None`` or 0 restores
        the default). Kept across :meth:`reset`."""
        return _core.conn_lock_timeout(self._conn) / 1_000_000

    @lock_timeout.setter
    def lock_timeout(self, seconds: Optional[float]) -> None:
        us = _microseconds("lock_timeout", seconds)
        with self._lock:
            _core.conn_set_lock_timeout(self._conn, us)

    # -- schema --------------------------------------------------------------------------
    def schema_install(self) -> int:
        """Install or upgrade the schema; returns how many migrations were applied (0 when
        up to date). Raises :class:`ConflictError` for an incompatible existing column,
        :class:`VersionError` for a database migrated by a newer library."""
        with self._lock:
            return _core.schema_install(self._conn)

    def schema_version(self) -> SchemaVersion:
        """The database's schema version as a :class:`SchemaVersion`."""
        with self._lock:
            current, latest = _core.schema_version(self._conn)
        return SchemaVersion(current, latest)
