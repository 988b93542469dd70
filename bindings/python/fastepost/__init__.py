# SPDX-License-Identifier: MIT
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

The package is split by concern, each module with the :class:`Connection` methods of its
concern (one mixin class each, combined in connection.py): errors.py (the exception classes),
connection.py (connecting, the schema), transfer.py (export and import), webhooks.py (the
webhook and event-log methods) with what they take and return: hubspot.py (signatures),
odoo_webhook.py (Odoo's key check), webhook_entry.py (every CRM through one entry), events.py
(results, the event log); odoo_sync.py (the Odoo pull and push), spool.py (the delivery spool),
backup.py, stats.py (CRM and database figures, the report) and pool.py; _support.py holds what
they share. Import
everything from ``fastepost`` itself: the modules are not an interface.
"""

# _support first: it refuses a library of another ABI before anything else runs.
from ._support import __version__, version, version_info, Result
from .errors import (  # noqa: F401  (re-exported: the exception classes are created in C)
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
    error_name,
    strerror,
)
from .connection import Connection, SchemaVersion, connect, schema_sql
from .transfer import ExportResult, ImportReport, ImportRowError
from .events import Event, EventBatch, EventResult, HubSpotBatch, PruneReport, RetryReport, status_http
from .hubspot import HubSpotVerifier, hubspot_decode_uri, hubspot_sign, hubspot_verify
from .odoo_webhook import odoo_authenticate, odoo_process
from .webhook_entry import (
    WebhookConfig,
    WebhookEvent,
    WebhookResponse,
    webhook_process,
    webhook_sources,
)
from .odoo_sync import OdooPullReport, OdooPushReport
from .spool import Spool, SpoolEntry, SpoolReplayReport
from .backup import BackupDir, BackupInfo
from .stats import (
    CrmRecentEvent,
    CrmSetup,
    CrmSourceStats,
    CrmStats,
    CrmSyncStats,
    DbStats,
    DbTableStats,
    time_ago,
)
from .pool import Pool, PoolTimeout

__all__ = [
    "connect", "Connection", "Result", "SchemaVersion", "version", "version_info",
    "schema_sql", "strerror", "error_name", "__version__",
    "ExportResult", "ImportReport", "ImportRowError", "CrmStats", "CrmSourceStats", "CrmSyncStats",
    "CrmRecentEvent", "CrmSetup", "HubSpotVerifier", "hubspot_verify", "hubspot_sign",
    "hubspot_decode_uri", "time_ago", "EventResult", "EventBatch", "HubSpotBatch", "Event", "RetryReport", "PruneReport", "OdooPullReport", "OdooPushReport", "Pool", "PoolTimeout",
    "status_http", "webhook_process", "webhook_sources", "WebhookConfig", "WebhookEvent",
    "WebhookResponse", "odoo_authenticate", "odoo_process", "Spool", "SpoolEntry", "SpoolReplayReport", "BackupDir", "BackupInfo", "DbStats", "DbTableStats",
    "Error", "NoMemoryError", "InvalidError", "NotFoundError", "ConflictError", "ParseError",
    "DatabaseError", "ConnectionError", "IOError", "ExternalError", "AuthError", "TooBigError",
    "NoKeyError", "VersionError", "CanceledError", "BusyError",
    "TimeoutError", "FullError", "ReadOnlyError",
]
