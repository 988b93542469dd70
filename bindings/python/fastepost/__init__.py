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

import codecs
import datetime
import io
import os
import threading

from . import core as _core
from .core import (  # noqa: F401  (re-exported: the exception classes are created in C)
    AuthError,
    BusyError,
    FullError,
    ReadOnlyError,
    TimeoutError,
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
    "ImportReport", "ImportRowError", "CrmStats", "CrmSourceStats", "CrmSyncStats",
    "CrmRecentEvent", "CrmSetup", "HubSpotVerifier", "hubspot_verify", "hubspot_sign",
    "hubspot_decode_uri", "time_ago", "EventResult", "HubSpotBatch", "Event", "RetryReport",
    "status_http", "odoo_authenticate", "odoo_process", "Spool", "SpoolEntry", "SpoolReplayReport", "BackupDir", "BackupInfo", "DbStats", "DbTableStats",
    "Error", "NoMemoryError", "InvalidError", "NotFoundError", "ConflictError", "ParseError",
    "DatabaseError", "ConnectionError", "IOError", "ExternalError", "AuthError", "TooBigError",
    "NoKeyError", "VersionError", "CanceledError", "BusyError",
    "TimeoutError", "FullError", "ReadOnlyError",
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

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields[name])

    def to_dict(self):
        """The fields as a dict; nested results become dicts too."""
        return {name: _plain(getattr(self, name)) for name in self.__slots__}

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({fields})"


def _plain(value):
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


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


# -- export and import -------------------------------------------------------------------

class ImportRowError(Result):
    """One rejected value or row: ``line`` in the file (1 = header; 0 when no single row is
    concerned), ``column`` ("" for the whole row), ``value`` (a short preview, or "") and
    ``reason``."""

    __slots__ = ("line", "column", "value", "reason")


class ImportReport(Result):
    """The outcome of :meth:`Connection.import_csv`: row counts (``rows_written`` is 0 in a
    dry run and after any failure), ``error_total`` (a lower bound when ``errors_complete`` is
    False) and ``errors``, the first ``max_errors`` :class:`ImportRowError`."""

    __slots__ = ("rows_read", "rows_inserted", "rows_updated", "rows_skipped", "rows_written",
                 "bytes_read", "dry_run", "error_total", "errors_complete", "errors")

    @classmethod
    def _from(cls, d):
        d = dict(d, errors=[ImportRowError(**e) for e in d["errors"]])
        return cls(**d)

    @property
    def ok(self):
        return self.error_total == 0


_CONFLICT = {"error": _core.CONFLICT_ERROR, "skip": _core.CONFLICT_SKIP,
             "update": _core.CONFLICT_UPDATE}


def _writer(file):
    """A write(bytes) callable for a file object: binary files get the bytes, text files
    (io.TextIOBase, or anything with an ``encoding``) the decoded text. Pieces may end inside
    a UTF-8 character, so text goes through an incremental decoder."""
    if isinstance(file, io.TextIOBase) or (
            not isinstance(file, (io.RawIOBase, io.BufferedIOBase)) and hasattr(file, "encoding")):
        decoder = codecs.getincrementaldecoder("utf-8")()
        return lambda chunk: file.write(decoder.decode(chunk))
    return file.write


class _TextReader:
    """read(size) in bytes over a text file object: its text, encoded as UTF-8."""

    def __init__(self, file):
        self.file = file
        self.pending = b""

    def read(self, size):
        while len(self.pending) < size:
            text = self.file.read(size)
            if not text:
                break
            self.pending += text.encode("utf-8")
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


def _reader(file):
    if isinstance(file, io.TextIOBase) or isinstance(file.read(0), str):
        return _TextReader(file).read
    return file.read


def _export_options(table, format, columns, where, order, limit, schemas):
    opts = _core.ExportOptions()
    _core.export_options_set_table(opts, table)
    _core.export_options_set_format(opts, _core.export_format_parse(format))
    for column in columns or ():
        _core.export_options_add_column(opts, column)
    for f in where or ():
        if isinstance(f, str):  # "email ilike %@x.de"
            _core.export_options_add_filter_expr(opts, f)
            continue
        column, op, *value = f
        if len(value) > 1:
            raise ValueError(f"a filter is (column, op[, value]), not {f!r}")
        value = value[0] if value else None
        if value is not None and not isinstance(value, (str, bytes)):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        _core.export_options_add_filter(opts, column, _core.filter_op_parse(op), value)
    if isinstance(order, str):
        order = [order]
    for key in order or ():
        if isinstance(key, str):
            descending = key.startswith("-")
            column = key[1:] if descending else key
        else:
            column, direction = key
            descending = str(direction).lower() in ("desc", "descending")
        _core.export_options_add_order(opts, column, int(descending))
    if limit is not None:
        _core.export_options_set_limit(opts, int(limit))
    for schema in schemas or ():
        _core.export_options_allow_schema(opts, schema)
    return opts


# -- CRM statistics ----------------------------------------------------------------------

class CrmSourceStats(Result):
    """The figures of one CRM source. ``success_rate`` is a percentage with one decimal, or
    None when no event has finished; ``badge`` is "green", "yellow" or "none"; times are ISO
    8601 UTC text (None without events) with ``*_ms`` twins in milliseconds (0 without)."""

    __slots__ = ("source", "total_events", "events_24h", "success_events", "error_events",
                 "dead_events", "pending_events", "success_rate", "badge", "last_event_at",
                 "last_event_at_ms", "last_event_type")


class CrmSyncStats(Result):
    """The customer synchronisation panel."""

    __slots__ = ("total_customers", "synced_customers", "pending_tasks", "last_sync_at",
                 "last_sync_at_ms")


class CrmRecentEvent(Result):
    """One of the newest events, across sources."""

    __slots__ = ("id", "source", "event_type", "status", "outcome", "error", "created_at",
                 "created_at_ms", "time_ago")


class CrmSetup(Result):
    """Where and how the CRMs send their webhooks, for the base URL given."""

    __slots__ = ("odoo_webhook_url", "odoo_webhook_url_with_key", "odoo_api_key_header",
                 "odoo_api_key_param", "hubspot_webhook_url", "hubspot_signature_header",
                 "hubspot_timestamp_header")


class CrmStats(Result):
    """What the CRM dashboard shows (see docs/crm-stats.md): ``sources`` (alphabetical, always
    with hubspot and odoo), ``sync``, ``recent`` (newest first, at most 20), ``setup``, and the
    clock they were computed for (``generated_at``, ``generated_at_ms``)."""

    __slots__ = ("generated_at", "generated_at_ms", "sources", "sync", "recent", "setup")

    @classmethod
    def _from(cls, d):
        return cls(generated_at=d["generated_at"], generated_at_ms=d["generated_at_ms"],
                   sources=[CrmSourceStats(**x) for x in d["sources"]],
                   sync=CrmSyncStats(**d["sync"]),
                   recent=[CrmRecentEvent(**x) for x in d["recent"]],
                   setup=CrmSetup(**d["setup"]))

    def source(self, name):
        """The :class:`CrmSourceStats` of a source ("hubspot"), or None."""
        return next((s for s in self.sources if s.source == name), None)


def time_ago(then_ms, now_ms):
    """The dashboard's "time ago" text ("just now", "3 minutes ago", "2 days ago" ...)."""
    return _core.time_ago(int(then_ms), int(now_ms))


# -- HubSpot -----------------------------------------------------------------------------

_HUBSPOT_VERSIONS = {"v1": _core.HUBSPOT_V1, "v2": _core.HUBSPOT_V2, "v3": _core.HUBSPOT_V3}


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

    def __init__(self, secrets=(), *, versions=None, tolerance_ms=None, now_ms=None,
                 max_body=None):
        self._lock = threading.Lock()
        self._v = _core.HubSpotVerifier()
        if isinstance(secrets, (str, bytes)):
            secrets = [secrets]
        for secret in secrets:
            self.add_secret(secret)
        if versions is not None:
            self.versions = versions
        if tolerance_ms is not None:
            _core.hubspot_verifier_set_tolerance(self._v, int(tolerance_ms))
        if now_ms is not None:
            self.now_ms = now_ms
        if max_body is not None:
            _core.hubspot_verifier_set_max_body(self._v, int(max_body))

    def add_secret(self, secret):
        """Add a client secret (at most 8; TooBigError beyond)."""
        with self._lock:
            _core.hubspot_verifier_add_secret(self._v, secret)

    def clear_secrets(self):
        """Forget every secret: every request then fails with NoKeyError."""
        with self._lock:
            _core.hubspot_verifier_clear_secrets(self._v)

    @property
    def versions(self):
        raise AttributeError("versions is write-only")

    @versions.setter
    def versions(self, names):
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
    def now_ms(self):
        raise AttributeError("now_ms is write-only")

    @now_ms.setter
    def now_ms(self, ms):
        """A fixed clock in ms since the epoch; None returns to the system clock."""
        with self._lock:
            _core.hubspot_verifier_set_now(self._v, -1 if ms is None else int(ms))

    def verify(self, *, method, uri, body, signature, timestamp=None, version="v3"):
        """Verify one request over the exact body bytes received (bytes; a str is taken as
        UTF-8). Header values may be None when missing. Returns the index of the secret that
        matched. Raises :class:`AuthError` (refuse the request: the message says why),
        :class:`NoKeyError` (no secret configured), :class:`TooBigError` (body over the
        limit), :class:`InvalidError` (unknown version name)."""
        with self._lock:
            return _core.hubspot_verify(self._v, version, method, uri, timestamp, signature, body)


def hubspot_verify(secret, *, method, uri, body, signature, timestamp=None, version="v3",
                   **options):
    """Verify one request with a one-off :class:`HubSpotVerifier` (``secret`` a str or a list
    of them; options as for the class, e.g. ``versions=("v1", "v2", "v3")`` to accept v1/v2
    when ``version`` names them). Returns the index of the matching secret; raises as
    :meth:`HubSpotVerifier.verify`."""
    if "versions" not in options:
        options["versions"] = (version,)
    return HubSpotVerifier(secret, **options).verify(
        method=method, uri=uri, body=body, signature=signature, timestamp=timestamp,
        version=version)


def hubspot_sign(secret, *, body, method=None, uri=None, timestamp=None, version="v3"):
    """The signature HubSpot would send (Base64 for v3, hex for v1/v2), to test an endpoint."""
    if version not in _HUBSPOT_VERSIONS:
        raise ValueError(f"unknown HubSpot signature version {version!r}")
    if timestamp is not None:
        timestamp = str(timestamp)
    return _core.hubspot_sign(_HUBSPOT_VERSIONS[version], secret, method, uri, timestamp, body)


def hubspot_decode_uri(uri):
    """The URI as HubSpot decodes it before signing with v3 (12 escapes decoded)."""
    return _core.hubspot_decode_uri(uri)


# -- webhooks and the event log ----------------------------------------------------------

def status_http(code):
    """The HTTP status a webhook endpoint answers for a status code (0 -> 200, ParseError ->
    400, AuthError -> 401, ConflictError -> 409, TooBigError -> 413, ConnectionError/BusyError
    -> 503, else 500)."""
    return _core.status_http(int(code))


def odoo_authenticate(expected, presented):
    """Check the key an Odoo request presented (header ``X-Odoo-Api-Key`` or ``?api_key=``)
    in constant time. ``expected`` None reads ``ODOO_API_KEY`` (at call time). Returns True;
    raises :class:`NoKeyError` when no key is configured, :class:`AuthError` for a missing or
    wrong key (both have ``http_status`` 401). :meth:`Connection.odoo_process` checks the key
    itself: this is for hosts that check it elsewhere."""
    if expected is None:
        expected = os.environ.get("ODOO_API_KEY")
    _core.odoo_authenticate(expected, presented)
    return True


def _expected_keys(expected_keys):
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
        if not k or (b"\0" if isinstance(k, bytes) else "\0") in k:
            raise InvalidError("an expected Odoo API key must not be empty or contain a NUL byte")
    return keys


def _presented_key(api_key):
    """None, "" and a key with a NUL byte all reach the library as no key or a wrong one."""
    if api_key is None or isinstance(api_key, (str, bytes)):
        if api_key is not None and (b"\0" if isinstance(api_key, bytes) else "\0") in api_key:
            return ""
        return api_key
    raise TypeError(f"api_key must be str or bytes, not {type(api_key).__name__}")


class EventResult(Result):
    """What processing one delivery did: ``code`` (0 or the error code), ``status`` ("ok" or
    the error name, "FASTEPOST_EPARSE" ...), ``http_status`` (answer this), ``outcome``
    ("created", "updated", "unchanged", "stale", "ignored", "conflict", "duplicate"; "" when
    it failed before a decision), the ids written (0 for none), ``warnings`` and ``error``
    (the failure message, or None). HubSpot events also have ``type`` and ``object_id``."""

    __slots__ = ("code", "status", "http_status", "outcome", "event_id", "customer_id",
                 "remark_id", "task_id", "warnings", "error", "type", "object_id")

    def __init__(self, **fields):
        fields.setdefault("type", None)
        fields.setdefault("object_id", None)
        super().__init__(**fields)

    @property
    def ok(self):
        return self.code == 0

    def to_dict(self):
        d = super().to_dict()
        if self.type is None and self.object_id is None:
            del d["type"], d["object_id"]
        return d


class HubSpotBatch(Result):
    """What processing one HubSpot request did: ``status``/``code``/``http_status`` of the
    whole batch, ``count`` events of which ``failed`` failed, and ``events`` (one
    :class:`EventResult` each, with ``type`` and ``object_id``)."""

    __slots__ = ("code", "status", "http_status", "count", "failed", "events")

    @classmethod
    def _from(cls, d):
        return cls(**dict(d, events=[EventResult(**e) for e in d["events"]]))

    @property
    def ok(self):
        return self.code == 0


class Event(Result):
    """One integration_events row (times are UTC text "YYYY-MM-DD HH:MM:SS.ffffff", "" for
    none; ids 0 for none)."""

    __slots__ = ("id", "source", "event_type", "status", "outcome", "external_id",
                 "error_message", "attempts", "customer_id", "created_at", "processed_at",
                 "next_attempt_at")


class RetryReport(Result):
    """What :meth:`Connection.events_retry` did."""

    __slots__ = ("attempted", "succeeded", "failed", "dead")


def _body(body):
    """bytes or str as they are; a bytearray or memoryview copied to bytes, since another
    thread could resize it while the call runs without the GIL."""
    if isinstance(body, (bytes, str)) or body is None:
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"body must be bytes or str, not {type(body).__name__}")


def _attach_result(e, convert):
    if isinstance(e.result, (dict, list)):
        e.result = convert(e.result)


def _spool(spool):
    if spool is None or isinstance(spool, Spool):
        return spool
    return Spool(spool)


def _odoo_process(conn, body, api_key, expected_keys, host_authenticated, event, content_type,
                  max_body, max_depth, barcode_fields, spool):
    keys = _expected_keys(expected_keys)
    api_key = _presented_key(api_key)
    spool = _spool(spool)
    body = _body(body)
    args = (body, api_key, keys, int(bool(host_authenticated)), event, content_type,
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


def odoo_process(body, conn=None, *, api_key=None, expected_keys=None, spool=None,
                 host_authenticated=False, event=None, content_type=None, max_body=None,
                 max_depth=None, barcode_fields=None):
    """:meth:`Connection.odoo_process` for a host that may have no connection: with ``conn``
    None (connecting failed) the delivery goes straight to ``spool`` (a :class:`Spool` or a
    directory; required then) and the result says "spooled", ``http_status`` 202. The key is
    checked first, also then: a refused request is never spooled."""
    return _odoo_process(conn, body, api_key, expected_keys, host_authenticated, event,
                         content_type, max_body, max_depth, barcode_fields, spool)


# -- the delivery spool -------------------------------------------------------------------

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class SpoolEntry(Result):
    """One spooled delivery: file ``name``, ``source`` ("odoo"; "?" for an unreadable file),
    ``event`` hint ("" for none), ``content_type``, body size ``bytes`` and ``spooled_at`` (a
    UTC :class:`datetime.datetime`)."""

    __slots__ = ("name", "source", "event", "content_type", "bytes", "spooled_at")

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
        """Spool one delivery durably; returns the file name. :class:`TooBigError` when the
        spool is full."""
        with self._lock:
            return _core.spool_put(self._s, source, event, content_type, _body(body))

    def list(self):
        """The spooled deliveries, oldest first (replay order), as :class:`SpoolEntry`."""
        with self._lock:
            return [SpoolEntry._from(d) for d in _core.spool_list(self._s)]

    def replay(self, conn, limit=0):
        """Process the spooled deliveries into ``conn``'s database, oldest first, each exactly
        once; returns a :class:`SpoolReplayReport`. Stops (raising) when the database fails;
        what was committed stays committed."""
        with conn._lock, self._lock:
            return SpoolReplayReport(**_core.spool_replay(self._s, conn._conn, int(limit or 0)))

    def __repr__(self):
        return f"<fastepost.Spool {self.dir!r}>"


# -- backups and database figures ---------------------------------------------------------

_BACKUP_FORMATS = {"plain": _core.BACKUP_PLAIN, "custom": _core.BACKUP_CUSTOM}


class BackupInfo(Result):
    """One backup: ``name``, ``size`` in bytes, ``time`` (a UTC :class:`datetime.datetime`, when
    it was started) and ``format`` ("plain" or "custom")."""

    __slots__ = ("name", "size", "time", "format")

    @classmethod
    def _from(cls, d):
        return cls(**dict(d, time=datetime.datetime.fromtimestamp(d["time"], datetime.timezone.utc)))


class BackupDir:
    """A backup directory (docs/backup.md); ``path`` None uses ``$FASTEPOST_BACKUP_DIR``, else
    ``tmp/backups``. pg_dump, pg_restore and psql run with the GIL released."""

    def __init__(self, path=None):
        self._lock = threading.RLock()
        self._d = _core.BackupDir(None if path is None else os.fsdecode(path))

    @property
    def dir(self):
        """The absolute directory path."""
        return _core.backup_dir_path(self._d)

    def create(self, conn, *, format="plain", table=None, progress=None):
        """Back up ``conn``'s database (or one ``table``) with pg_dump as "plain" SQL or
        "custom"; returns the new backup's name. ``progress(rows, bytes)`` is called as the
        dump grows (returning False cancels)."""
        if format not in _BACKUP_FORMATS:
            raise ValueError(f"format must be 'plain' or 'custom', not {format!r}")
        with conn._lock, self._lock:
            return _core.backup_create(self._d, conn._conn, _BACKUP_FORMATS[format], table, progress)

    def list(self, limit=10):
        """The backups, newest first, as :class:`BackupInfo` (``limit`` None or 0 for all)."""
        with self._lock:
            return [BackupInfo._from(d) for d in _core.backup_list(self._d, int(limit or 0))]

    def path(self, name):
        """The absolute path of a backup (NotFoundError/InvalidError for a bad name)."""
        return _core.backup_path(self._d, name)

    def open(self, name):
        """The backup as a binary file object opened for reading (close it, or use ``with``)."""
        return os.fdopen(_core.backup_open(self._d, name), "rb")

    def verify(self, name, conn=None, *, deep=False):
        """Check the checksum (and for ``deep``, a test restore, which needs ``conn``); raises
        on a bad backup, returns True."""
        with self._lock:
            if conn is None:
                _core.backup_verify(self._d, None, name, int(bool(deep)))
            else:
                with conn._lock:
                    _core.backup_verify(self._d, conn._conn, name, int(bool(deep)))
        return True

    def prune(self, keep=None, older_than_days=None):
        """Remove old backups: all but the ``keep`` newest and/or those older than
        ``older_than_days``. Returns the removed :class:`BackupInfo`, newest first."""
        with self._lock:
            removed = _core.backup_prune(self._d, -1 if keep is None else int(keep),
                                         -1 if older_than_days is None else int(older_than_days))
        return [BackupInfo._from(d) for d in removed]

    def restore(self, name, conn, target, *, force=False):
        """Restore a backup into the database ``target`` (a conninfo or URL); restoring into
        ``conn``'s own database needs ``force=True``."""
        with conn._lock, self._lock:
            _core.backup_restore(self._d, conn._conn, name, target, int(bool(force)))

    def __repr__(self):
        return f"<fastepost.BackupDir {self.dir!r}>"


class DbTableStats(Result):
    """One table: ``rows_estimate`` (-1 unknown), ``rows_exact`` (-1 unless asked), sizes."""

    __slots__ = ("name", "rows_estimate", "rows_exact", "total_bytes", "table_bytes", "index_bytes")


class DbStats(Result):
    """The database figures (docs/stats.md): ``database``, ``size_bytes``, ``tables`` (largest
    first), ``backup_count`` (-1 without a backup directory) and ``newest_backup``."""

    __slots__ = ("database", "size_bytes", "tables", "backup_count", "newest_backup")

    @classmethod
    def _from(cls, d):
        nb = d["newest_backup"]
        return cls(**dict(d, tables=[DbTableStats(**t) for t in d["tables"]],
                          newest_backup=nb and BackupInfo._from(nb)))


def _backup_dir(backups):
    if backups is None or isinstance(backups, BackupDir):
        return backups
    return BackupDir(backups)


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


    # -- export and import ---------------------------------------------------------------
    def export(self, table=None, *, format="csv", file=None, columns=None, where=None,
               order=None, limit=None, schemas=None, progress=None):
        """Export a table as ``format`` ("csv", "json", "ndjson" or "sql"; "sql" without a
        table dumps the whole database with pg_dump). See docs/transfer.md.

        :param file: None to return the output as a ``str``; a path (str or os.PathLike) to
            write a file (mode 0600, removed on failure); or any object with ``write``:
            binary files get bytes, text files (``io.TextIOBase`` or with an ``encoding``)
            str. Nothing else is done with it (not flushed, not closed).
        :param columns: column names, in output order (default: all, in table order)
        :param where: filters combined with AND: ``(column, op, value)`` (op ``=``, ``!=``,
            ``<``, ``<=``, ``>``, ``>=``, ``like``, ``ilike``), ``(column, "is_null")``,
            ``(column, "not_null")``, or text such as ``"email ilike %@x.de"``. Values are
            checked against the column's type and quoted by libpq.
        :param order: a column, or a list of them; ``"-id"`` or ``("id", "desc")`` descending
        :param limit: at most this many rows
        :param schemas: allow tables only from these schemas
        :param progress: ``progress(rows, bytes)``, called every so often and at the end;
            returning ``False`` stops the export (:class:`CanceledError`)
        :raises NotFoundError: unknown or disallowed table or column
        :raises InvalidError: a filter value that does not fit its column ...
        An exception raised in ``file.write`` or ``progress`` stops the export and propagates.
        """
        opts = _export_options(table, format, columns, where, order, limit, schemas)
        chunks = None
        if file is None:
            chunks = []
            write = chunks.append
        elif isinstance(file, (str, bytes, os.PathLike)):
            with self._lock:
                _core.export_to_file(self._conn, opts, os.fsdecode(file), progress)
            return None
        else:
            write = _writer(file)
        with self._lock:
            _core.export_run(self._conn, opts, write, progress)
        return None if chunks is None else b"".join(chunks).decode("utf-8")

    def export_all(self, directory, *, format="csv", schemas=None, progress=None):
        """Export every table of the allowed schemas into ``directory`` (created, mode 0700),
        one file per table (``customers.csv``; ``schema.table.csv`` outside ``public``), in
        "csv", "json" or "ndjson". Returns the number of files written."""
        opts = _export_options(None, format, None, None, None, None, schemas)
        with self._lock:
            return _core.export_all(self._conn, opts, os.fsdecode(directory), progress)

    def import_csv(self, table, source, *, dry_run=False, on_conflict="error", key=None,
                   max_errors=None, progress=None):
        """Import a CSV file (with a header line) into ``table``, all or nothing, validating
        every value first. See docs/transfer.md.

        :param source: a path (str or os.PathLike) or a file object opened for reading
            (binary, or text: then encoded as UTF-8)
        :param dry_run: do everything, database checks included, then roll back
        :param on_conflict: "error" (default), "skip" (keep existing rows) or "update"
        :param key: the conflict key column for skip/update (default: primary key for update,
            any unique constraint for skip)
        :param max_errors: how many row errors the report lists (default 100)
        :param progress: ``progress(rows, bytes)``; returning ``False`` stops (and rolls back)
        :returns: an :class:`ImportReport`
        :raises ParseError, InvalidError, ConflictError, NotFoundError ...: the import failed
            and wrote nothing; the exception's ``report`` attribute is the
            :class:`ImportReport` with the rejected rows (None if there is none).
        An exception raised by ``source.read`` or ``progress`` rolls back and propagates.
        """
        if on_conflict not in _CONFLICT:
            raise ValueError(f"on_conflict must be one of {sorted(_CONFLICT)}, not {on_conflict!r}")
        path, read = None, None
        if isinstance(source, (str, bytes, os.PathLike)):
            path = os.fsdecode(source)
        else:
            read = _reader(source)
        try:
            with self._lock:
                report = _core.import_csv(self._conn, table, path, read, int(bool(dry_run)),
                                          _CONFLICT[on_conflict], key, int(max_errors or 0),
                                          progress)
        except Error as e:
            if isinstance(e.report, dict):
                e.report = ImportReport._from(e.report)
            raise
        return ImportReport._from(report)

    # -- webhooks and the event log -----------------------------------------------------
    def odoo_process(self, body, api_key=None, expected_keys=None, event=None, content_type=None,
                     max_body=None, max_depth=None, barcode_fields=None, spool=None, *,
                     host_authenticated=False):
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

    def odoo_process_batch(self, bodies, api_key=None, expected_keys=None, event=None,
                           content_type=None, max_body=None, max_depth=None, barcode_fields=None,
                           *, host_authenticated=False):
        """Process several deliveries in one transaction (each in a savepoint: a failing one
        does not affect the others). Returns a list of :class:`EventResult`, each with its own
        ``code``. Raises when the batch could not be committed (``e.result`` the list). Never
        spools: a batch is all or nothing.

        :param api_key: the key each request presented: a list with one per body, or one key
            for all; checked as by :meth:`odoo_process`, and a refused delivery gets its own
            401 result (``code`` AuthError or NoKeyError) without anything written."""
        keys = _expected_keys(expected_keys)
        bodies = [_body(b) for b in bodies]
        if isinstance(api_key, (list, tuple)):
            if len(api_key) != len(bodies):
                raise InvalidError(f"{len(api_key)} keys for {len(bodies)} bodies")
            presented = [_presented_key(k) or "" for k in api_key]
        else:
            presented = [_presented_key(api_key) or ""] * len(bodies)
        try:
            with self._lock:
                rs = _core.odoo_process_batch(self._conn, bodies, presented, keys,
                                              int(bool(host_authenticated)), event, content_type,
                                              int(max_body or 0), int(max_depth or 0), barcode_fields)
        except Error as e:
            _attach_result(e, lambda l: [r and EventResult(**r) for r in l])
            raise
        return [r and EventResult(**r) for r in rs]

    def hubspot_process(self, body, secrets=(), *, method="POST", uri=None, timestamp=None,
                        signature=None, version="v3", now_ms=None, max_events=None,
                        verifier=None):
        """Verify a HubSpot webhook request and ingest its batch (docs/hubspot.md). Pass
        ``secrets`` (the app's client secrets) or a ready :class:`HubSpotVerifier`. Header
        values may be None when missing. Returns a :class:`HubSpotBatch` (events that failed
        alone are in it with their own code). A refused request raises :class:`AuthError`,
        :class:`NoKeyError`, :class:`ParseError`, :class:`TooBigError` ... with
        ``http_status`` and ``result`` (the :class:`HubSpotBatch`, no events)."""
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
            _attach_result(e, HubSpotBatch._from)
            raise
        return HubSpotBatch._from(d)

    def events(self, source=None, status=None, limit=50):
        """The newest integration events as :class:`Event` objects, optionally only of one
        ``source`` ("odoo", "hubspot") or ``status`` ("pending", "success", "error", "dead")."""
        with self._lock:
            return [Event(**d) for d in _core.events_list(self._conn, source, status, int(limit))]

    def events_retry(self, limit=100):
        """Process again the events that failed transiently and are due; a
        :class:`RetryReport`."""
        with self._lock:
            return RetryReport(**_core.events_retry(self._conn, int(limit)))

    # -- backups, database figures, report ------------------------------------------------
    def backup(self, dir=None, *, format="plain", table=None, progress=None):
        """Back up the database into ``dir`` (a path or :class:`BackupDir`; None: the
        default); returns the backup's name. See :meth:`BackupDir.create`."""
        return _backup_dir(dir if dir is not None else BackupDir()).create(
            self, format=format, table=table, progress=progress)

    def db_stats(self, backups=None, *, exact=False):
        """The database figures as a :class:`DbStats`; ``backups`` (a path or
        :class:`BackupDir`) adds the backup count; ``exact`` counts every table's rows."""
        d = _backup_dir(backups)
        with self._lock:
            return DbStats._from(_core.stats_db(self._conn, d._d if d else None, int(bool(exact))))

    def report_html(self, backup_dir=None, base_url=None, title=None):
        """The self-contained HTML report (docs/report.md) as a str."""
        if isinstance(backup_dir, BackupDir):
            backup_dir = backup_dir.dir
        with self._lock:
            return _core.report_html(self._conn, None if backup_dir is None else os.fsdecode(backup_dir),
                                     base_url, title)

    # -- CRM statistics ------------------------------------------------------------------
    def crm_stats(self, base_url=None, *, now_ms=None):
        """The CRM dashboard's figures as a :class:`CrmStats`. ``base_url`` (``https://...``)
        makes the set-up URLs absolute; ``now_ms`` fixes the clock (default: the server's).
        Raises :class:`VersionError` before schema version 2, :class:`InvalidError` for a
        base URL that is not http(s)."""
        with self._lock:
            d = _core.crm_stats_collect(self._conn, base_url, -1 if now_ms is None else int(now_ms))
        return CrmStats._from(d)

    def crm_stats_rebuild(self):
        """Recount the CRM counters from the tables (only needed after writes with the
        triggers disabled)."""
        with self._lock:
            _core.crm_stats_rebuild(self._conn)
