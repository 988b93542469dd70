# SPDX-License-Identifier: MIT
"""A bounded, thread-safe pool of :class:`fastepost.Connection` objects for hosts that serve
requests from many threads (gunicorn with threads, a thread pool, Celery)::

    pool = fastepost.Pool(dsn, size=5, timeout=5)
    with pool.connection() as conn:
        conn.odoo_process(body)

- at most ``size`` connections exist; a thread that finds none free waits up to ``timeout``
  seconds, then :class:`PoolTimeout` (a :class:`fastepost.TimeoutError`, ``http_status`` 503);
- connections are opened lazily, when no idle one is left;
- a connection that sat idle for ``ping_after`` seconds or more is pinged before it is handed
  out, and one that raised :class:`fastepost.ConnectionError` during use (or was closed) is
  discarded; a new one takes its place on the next checkout;
- after ``fork()`` the child starts with an empty pool. The parent's connections are left
  alone in the child, never closed there: closing would end the session on the socket the parent
  still uses. (Preferably create pools after forking: gunicorn's ``post_fork``, Celery's
  ``worker_process_init``.)
"""

import os
import threading
import time
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, List, Literal, Optional, Tuple, Type

from .core import ConnectionError, Error, InvalidError, TimeoutError

__all__ = ["Pool", "PoolTimeout"]

if TYPE_CHECKING:
    from .connection import Connection


class PoolTimeout(TimeoutError):
    """No connection of the pool became free within the checkout timeout. A
    :class:`fastepost.TimeoutError` (code ``ETIMEOUT``), so ``http_status`` is 503: answer the
    webhook sender 503 and it delivers again later."""


def _forget(conn: "Connection") -> None:
    """Drop a connection inherited from the parent process without closing it: the C handle is
    disowned so that garbage collection never sends a Terminate message on the parent's socket
    (the handle's memory stays allocated in the child, once per fork)."""
    try:
        conn._conn.thisown = False
    except AttributeError:
        pass


_pools: "weakref.WeakSet[Pool]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_pools):
        pool._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Pool:
    """A pool of at most ``size`` connections to ``dsn``.

    :param dsn: libpq connection string or URL, as for :func:`fastepost.connect`
    :param size: the most connections open at once (1 or more)
    :param timeout: seconds a checkout waits for a free connection before :class:`PoolTimeout`
    :param ping_after: an idle connection is pinged before reuse once it sat this many seconds
        (0: always)
    :param options: keyword options for each :class:`fastepost.Connection`
        (``statement_timeout=``)
    :raises InvalidError: a size below 1 or a negative timeout
    """

    def __init__(self, dsn: str = "", *, size: int = 5, timeout: float = 5.0,
                 ping_after: float = 1.0, **options: Optional[float]) -> None:
        if int(size) < 1:
            raise InvalidError(f"the pool size must be 1 or more, not {size}")
        if float(timeout) < 0 or float(ping_after) < 0:
            raise InvalidError("the pool's timeout and ping_after must not be negative")
        self._dsn = dsn
        self._options = options
        self._size = int(size)
        self._timeout = float(timeout)
        self._ping_after = float(ping_after)
        self._cond = threading.Condition(threading.Lock())
        self._idle: List[Tuple[Connection, float]] = []  # (connection, time it was returned); the most recent last
        self._open = 0   # connections that exist: idle + checked out + being opened
        self._pid = os.getpid()
        self._closed = False
        _pools.add(self)

    # -- figures --------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """The most connections open at once."""
        return self._size

    @property
    def timeout(self) -> float:
        """Seconds a checkout waits for a free connection."""
        return self._timeout

    @property
    def open_count(self) -> int:
        """Connections that exist now (idle or checked out)."""
        with self._cond:
            return self._open

    @property
    def idle_count(self) -> int:
        """Connections waiting in the pool."""
        with self._cond:
            return len(self._idle)

    def __repr__(self) -> str:
        return f"<fastepost.Pool size={self._size} open={self._open} idle={len(self._idle)}>"

    # -- checkout ------------------------------------------------------------------------
    def connection(self, timeout: Optional[float] = None) -> "_Checkout":
        """A context manager that checks a connection out and gives it back on exit::

            with pool.connection() as conn:
                ...

        :param timeout: seconds to wait for a free connection (None: the pool's)
        :raises PoolTimeout: none became free in time
        :raises ConnectionError: a new connection could not be opened
        """
        return _Checkout(self, self._timeout if timeout is None else float(timeout))

    def _checkout(self, timeout: float) -> "Connection":
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._pid != os.getpid():
                self._reset_after_fork()
            conn: Optional[Connection]
            while True:
                if self._closed:
                    raise InvalidError("the pool is closed")
                if self._idle:
                    conn, since = self._idle.pop()
                    break
                if self._open < self._size:
                    self._open += 1
                    conn, since = None, 0.0  # (since: unused without a connection)
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolTimeout(f"no connection of the pool (size {self._size}) became "
                                      f"free within {timeout:g} s")
                self._cond.wait(remaining)
        # Opening and pinging happen outside the lock: other threads may check in meanwhile.
        try:
            if conn is not None and time.monotonic() - since >= self._ping_after:
                try:
                    conn.ping()
                except Error:
                    conn.close()
                    conn = None
            if conn is None:
                from . import Connection  # the package imports this module first
                conn = Connection(self._dsn, **self._options)
        except BaseException:
            self._discarded()
            raise
        return conn

    def _checkin(self, conn: "Connection", exc: Optional[BaseException]) -> None:
        broken = isinstance(exc, ConnectionError) or conn.closed
        with self._cond:
            if broken or self._closed:
                self._open -= 1
            else:
                self._idle.append((conn, time.monotonic()))
            self._cond.notify()
        if broken or self._closed:
            conn.close()

    def _discarded(self) -> None:
        with self._cond:
            self._open -= 1
            self._cond.notify()

    def _reset_after_fork(self) -> None:
        # In the child: fresh lock (another thread may have held the old one at fork time), no
        # connections. Called without the old lock.
        for conn, _ in self._idle:
            _forget(conn)
        self._idle = []
        self._open = 0
        self._cond = threading.Condition(threading.Lock())
        self._pid = os.getpid()

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Close the idle connections now and the checked-out ones as they come back; later
        checkouts raise :class:`InvalidError`."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn, _ in idle:
            conn.close()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]:
        self.close()
        return False


class _Checkout:
    __slots__ = ("_pool", "_timeout", "_conn", "_pid")
    _conn: Optional["Connection"]
    _pid: Optional[int]

    def __init__(self, pool: Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn = None
        self._pid = None

    def __enter__(self) -> "Connection":
        self._pid = os.getpid()
        self._conn = self._pool._checkout(self._timeout)
        return self._conn

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]:
        conn, self._conn = self._conn, None
        if conn is None:
            return False
        if os.getpid() != self._pid:
            _forget(conn)  # checked out before a fork, given back in the child: the parent's
        else:
            self._pool._checkin(conn, exc)
        return False
