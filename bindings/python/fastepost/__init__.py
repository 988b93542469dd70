"""libfastepost for Python: CRM webhook ingestion and PostgreSQL data tools for Fast Epost.

    import fastepost

    with fastepost.connect("postgresql:///fastepost") as conn:
        applied = conn.schema_install()
        print(conn.schema_version().to_dict())

Every failure raises a subclass of :class:`fastepost.Error` named after the error code
(:class:`InvalidError`, :class:`ConnectionError`, :class:`DatabaseError` ...), with the
attributes ``code``, ``sqlstate`` and ``message``. Calls that wait on the database release the
GIL, so other threads keep running. A :class:`Connection` may be shared between threads: its
calls are serialised (one libpq connection runs one statement at a time).

This module is the hand-written layer over :mod:`fastepost.core`, which SWIG generates from
bindings/fastepost.i and which mirrors the C API one to one. See docs/bindings.md.
"""

import threading

from . import core as _core
from .core import (  # noqa: F401  (re-exported: the exception classes are created in C)
    AuthError,
    BusyError,
    CanceledError,
    ConflictError,
    ConnectionError,
    DatabaseError,
    Error,
    ExternalError,
    InvalidError,
    IOError,
    NoKeyError,
    NoMemoryError,
    NotFoundError,
    ParseError,
    TooBigError,
    VersionError,
)

__all__ = [
    "connect", "Connection", "Result", "SchemaVersion", "version", "version_info",
    "schema_sql", "strerror", "error_name", "__version__",
    "Error", "NoMemoryError", "InvalidError", "NotFoundError", "ConflictError", "ParseError",
    "DatabaseError", "ConnectionError", "IOError", "ExternalError", "AuthError", "TooBigError",
    "NoKeyError", "VersionError", "CanceledError", "BusyError",
]

#: The version of the headers this binding was compiled against.
__version__ = _core.VERSION


def version():
    """The version of the libfastepost actually loaded, e.g. ``"0.1.0"``."""
    return _core.libversion()[0]


def version_info():
    """The loaded library's version as a tuple ``(major, minor, patch)``."""
    return tuple(_core.libversion()[1:])


# A binding compiled for one ABI must not run on another: refuse to import rather than crash.
if version_info()[0] != _core.VERSION_MAJOR:
    raise ImportError(
        f"fastepost: compiled for libfastepost {__version__} but loaded {version()}")


def strerror(code):
    """Fixed English text for an error code (``fastepost.core.EDB`` ...)."""
    return _core.strerror(code)


def error_name(code):
    """The symbolic name of an error code, e.g. ``"FASTEPOST_EDB"``."""
    return _core.error_name(code)


def schema_sql():
    """The SQL of every schema migration, in order, as one script."""
    return _core.schema_sql()


class Result:
    """Base of the result objects: plain attributes, ``to_dict()``, equality and a repr.

    Results own their data (nothing points back into a connection), so they outlive it.
    """

    __slots__ = ()

    def to_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({fields})"


class SchemaVersion(Result):
    """The schema version of a database (``current``) and the newest this library knows
    (``latest``)."""

    __slots__ = ("current", "latest")

    def __init__(self, current, latest):
        self.current = current
        self.latest = latest

    @property
    def up_to_date(self):
        return self.current == self.latest


def connect(dsn="", **options):
    """Open a :class:`Connection`. ``dsn`` is a libpq connection string or URL; ``""`` uses
    the ``PG*`` environment variables. Keyword options as for :class:`Connection`."""
    return Connection(dsn, **options)


class Connection:
    """A connection to the PostgreSQL database holding the Fast Epost tables.

    Use it as a context manager to close it on exit::

        with fastepost.connect(dsn, statement_timeout=30) as conn:
            conn.schema_install()

    :param dsn: libpq connection string or URL
    :param statement_timeout: seconds any one statement may run (``None``/0: no limit)
    :raises InvalidError: the connection string cannot be parsed
    :raises ConnectionError: the server cannot be reached or refuses the login
    :raises VersionError: the server is older than PostgreSQL 12
    """

    def __init__(self, dsn="", *, statement_timeout=None):
        self._lock = threading.RLock()
        self._conn = _core.Conn(dsn)
        if statement_timeout:
            self.statement_timeout = statement_timeout

    # -- lifecycle ---------------------------------------------------------------------
    def close(self):
        """Disconnect now. Later calls raise :class:`ConnectionError` until :meth:`reset`.
        Safe to call twice; the memory goes when the object is garbage collected."""
        with self._lock:
            _core.conn_close(self._conn)

    def reset(self):
        """Reconnect with the same parameters (e.g. after the server restarted)."""
        with self._lock:
            _core.conn_reset(self._conn)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    @property
    def closed(self):
        """True once :meth:`close` was called (or the connection was never made)."""
        return _core.conn_server_version(self._conn) == 0

    def __repr__(self):
        state = "closed" if self.closed else f"database={self.database!r}"
        return f"<fastepost.Connection {state}>"

    # -- connection ----------------------------------------------------------------------
    def ping(self):
        """Check that the server answers; raises :class:`ConnectionError` if not."""
        with self._lock:
            _core.conn_ping(self._conn)

    @property
    def server_version(self):
        """The server's version number (``150004`` for 15.4), 0 when closed."""
        return _core.conn_server_version(self._conn)

    @property
    def database(self):
        """The name of the connected database ("" when closed)."""
        return _core.conn_database(self._conn)

    @property
    def statement_timeout(self):
        """Seconds any one statement may run (0: no limit). Kept across :meth:`reset`."""
        return getattr(self, "_statement_timeout", 0)

    @statement_timeout.setter
    def statement_timeout(self, seconds):
        ms = int(round((seconds or 0) * 1000))
        with self._lock:
            _core.conn_set_statement_timeout(self._conn, ms)
        self._statement_timeout = seconds or 0

    # -- schema --------------------------------------------------------------------------
    def schema_install(self):
        """Install or upgrade the schema; returns how many migrations were applied (0 when
        up to date). Raises :class:`ConflictError` for an incompatible existing column,
        :class:`VersionError` for a database migrated by a newer library."""
        with self._lock:
            return _core.schema_install(self._conn)

    def schema_version(self):
        """The database's schema version as a :class:`SchemaVersion`."""
        with self._lock:
            current, latest = _core.schema_version(self._conn)
        return SchemaVersion(current, latest)
