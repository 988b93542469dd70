# SPDX-License-Identifier: MIT
"""Figures: the CRM dashboard (docs/crm-stats.md), the database figures (docs/stats.md) and
the HTML report (docs/report.md), with their methods of :class:`Connection`.

``to_dict()`` gives the keys and types of the CLI's ``--json`` (``fastepost stats crm``,
``fastepost stats db``): counts as int, unknown values as None, every time as ``<key>``
(ISO 8601 UTC text) and ``<key>_us`` (microseconds since the epoch), both None when there is
none."""

import os
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Union

from . import core as _core
from ._support import Result, _Path
from .core import InvalidError
from .backup import BackupDir, _backup_dir

if TYPE_CHECKING:
    from .connection import _CallLock


class CrmSourceStats(Result):
    """The figures of one CRM source. ``success_rate`` is a percentage with one decimal, or
    None when no event has finished; ``health`` is "good", "warning" or "none" and ``badge``
    its colour ("green", "yellow", "none"); ``configured`` whether the application named it
    (``sources=``), ``title`` its name as the CRM writes it ("monday.com"), ``webhook_url``
    where it sends its webhooks and ``instructions`` what to set up on its side."""

    __slots__ = ("source", "total_events", "events_24h", "success_events", "error_events",
                 "dead_events", "pending_events", "success_rate", "health", "badge",
                 "last_event_at", "last_event_at_us", "last_event_type", "configured", "title",
                 "webhook_url", "instructions")
    source: str
    total_events: int
    events_24h: int
    success_events: int
    error_events: int
    dead_events: int
    pending_events: int
    success_rate: Optional[float]
    health: str
    badge: str
    last_event_at: Optional[str]
    last_event_at_us: Optional[int]
    last_event_type: Optional[str]
    configured: bool
    title: str
    webhook_url: str
    instructions: str


class CrmSyncStats(Result):
    """The customer synchronisation panel."""

    __slots__ = ("total_customers", "synced_customers", "pending_tasks", "last_sync_at",
                 "last_sync_at_us")
    total_customers: int
    synced_customers: int
    pending_tasks: int
    last_sync_at: Optional[str]
    last_sync_at_us: Optional[int]


class CrmRecentEvent(Result):
    """One of the newest events, across sources."""

    __slots__ = ("id", "source", "event_type", "status", "outcome", "error", "created_at",
                 "created_at_us", "time_ago")
    id: int
    source: str
    event_type: Optional[str]
    status: str
    outcome: Optional[str]
    error: Optional[str]
    created_at: Optional[str]
    created_at_us: Optional[int]
    time_ago: Optional[str]


class CrmSetup(Result):
    """Where and how the CRMs send their webhooks, for the base URL and paths given."""

    __slots__ = ("odoo_webhook_url", "odoo_webhook_url_with_key", "odoo_api_key_header",
                 "odoo_api_key_param", "hubspot_webhook_url", "hubspot_signature_header",
                 "hubspot_timestamp_header")
    odoo_webhook_url: str
    odoo_webhook_url_with_key: str
    odoo_api_key_header: str
    odoo_api_key_param: str
    hubspot_webhook_url: str
    hubspot_signature_header: str
    hubspot_timestamp_header: str


class CrmStats(Result):
    """What the CRM dashboard shows (see docs/crm-stats.md): ``sources`` (alphabetical, always
    with hubspot and odoo), ``sync``, ``recent`` (newest first, at most 20), ``setup``, and the
    clock they were computed for (``generated_at``, ``generated_at_us``)."""

    __slots__ = ("sources", "sync", "recent", "setup", "generated_at", "generated_at_us")
    sources: List[CrmSourceStats]
    sync: CrmSyncStats
    recent: List[CrmRecentEvent]
    setup: CrmSetup
    generated_at: Optional[str]
    generated_at_us: Optional[int]

    @classmethod
    def _from(cls, d: "dict[str, Any]") -> "CrmStats":
        return cls(**dict(d, sources=[CrmSourceStats(**x) for x in d["sources"]],
                          sync=CrmSyncStats(**d["sync"]),
                          recent=[CrmRecentEvent(**x) for x in d["recent"]],
                          setup=CrmSetup(**d["setup"])))

    def source(self, name: str) -> Optional[CrmSourceStats]:
        """The :class:`CrmSourceStats` of a source ("hubspot"), or None."""
        return next((s for s in self.sources if s.source == name), None)


def time_ago(then_us: int, now_us: int) -> str:
    """The dashboard's "time ago" text ("just now", "3 minutes ago", "2 days ago" ...) of a
    moment, both in microseconds since the epoch."""
    return _core.report_time_ago(int(then_us), int(now_us))


class DbTableStats(Result):
    """One table: ``rows_estimate`` (None when unknown), ``rows_exact`` (None unless asked),
    sizes in bytes."""

    __slots__ = ("name", "rows_estimate", "rows_exact", "total_bytes", "table_bytes", "index_bytes")
    name: str
    rows_estimate: Optional[int]
    rows_exact: Optional[int]
    total_bytes: int
    table_bytes: int
    index_bytes: int


class DbNewestBackup(Result):
    """The newest full backup of the directory: ``name``, ``size_bytes``, ``created_at``
    (ISO 8601 UTC) and ``created_at_us``."""

    __slots__ = ("name", "size_bytes", "created_at", "created_at_us")
    name: str
    size_bytes: int
    created_at: Optional[str]
    created_at_us: Optional[int]


class DbStats(Result):
    """The database figures (docs/stats.md): ``database``, ``size_bytes``, ``tables`` (largest
    first), ``backup_count`` (None without a backup directory) and ``newest_backup``
    (:class:`DbNewestBackup` or None)."""

    __slots__ = ("database", "size_bytes", "tables", "backup_count", "newest_backup")
    database: str
    size_bytes: int
    tables: List[DbTableStats]
    backup_count: Optional[int]
    newest_backup: Optional[DbNewestBackup]

    @classmethod
    def _from(cls, d: "dict[str, Any]") -> "DbStats":
        nb = d["newest_backup"]
        return cls(**dict(d, tables=[DbTableStats(**t) for t in d["tables"]],
                          newest_backup=nb and DbNewestBackup(**nb)))


# The CRMs an application is configured for: names, one name, or a WebhookConfig (anything with
# sources()).
_Sources = Union[str, Iterable[str], Any, None]


def _sources(sources: _Sources) -> Optional[str]:
    """The configured sources as the helpers take them: "pipedrive,zoho", or None."""
    if sources is None:
        return None
    if hasattr(sources, "sources"):  # a WebhookConfig: the sources it has a section for
        sources = sources.sources()
    if isinstance(sources, str):
        sources = [sources]
    names = list(sources)
    for name in names:
        if not isinstance(name, str) or not name or "," in name:
            raise InvalidError(f"not a CRM source: {name!r}")
    return ",".join(names) or None


class _StatsMethods:
    """The figures and report methods of :class:`fastepost.Connection` (mixed in there: they
    use its ``_lock`` and ``_conn``)."""

    _lock: "_CallLock"
    _conn: _core.Conn

    def db_stats(self, backups: Union[BackupDir, _Path, None] = None, *,
                 exact: bool = False) -> DbStats:
        """The database figures as a :class:`DbStats`; ``backups`` (a path or
        :class:`BackupDir`) adds the backup count; ``exact`` counts every table's rows."""
        d = _backup_dir(backups)
        with self._lock:
            return DbStats._from(_core.stats_db(self._conn, d._d if d else None, int(bool(exact))))

    def report_html(self, backup_dir: Union[BackupDir, _Path, None] = None,
                    base_url: Optional[str] = None, title: Optional[str] = None, *,
                    sources: "_Sources" = None) -> str:
        """The self-contained HTML report (docs/report.md) as a str. ``sources``: the CRMs the
        application is configured for, as for :meth:`crm_stats`."""
        if isinstance(backup_dir, BackupDir):
            backup_dir = backup_dir.dir
        with self._lock:
            return _core.report_html(self._conn, None if backup_dir is None else os.fsdecode(backup_dir),
                                     base_url, title, _sources(sources))

    def crm_stats(self, base_url: Optional[str] = None, *, odoo_path: Optional[str] = None,
                  hubspot_path: Optional[str] = None, now_us: Optional[int] = None,
                  sources: "_Sources" = None) -> CrmStats:
        """The CRM dashboard's figures as a :class:`CrmStats`. ``base_url`` (``https://...``)
        makes the set-up URLs absolute; ``odoo_path`` / ``hubspot_path`` replace the default
        webhook paths; ``now_us`` (microseconds since the epoch) fixes the clock (default: the
        server's); ``sources`` names the CRMs the application is configured for (a list of
        names, or a :class:`WebhookConfig`: its sections), each of which gets an entry even
        without events (None or empty: odoo and hubspot). Raises :class:`VersionError` before
        schema version 2, :class:`InvalidError` for a base URL that is not http(s), a path
        without a leading "/" or an unknown source."""
        now = -1 if now_us is None else int(now_us)
        if now_us is not None and now < 0:
            raise ValueError("now_us must be 0 or more")
        with self._lock:
            d = _core.crm_stats_collect(self._conn, base_url, odoo_path, hubspot_path, now,
                                        _sources(sources))
        return CrmStats._from(d)

    def crm_metrics(self, *, sources: "_Sources" = None, spool: Optional[_Path] = None) -> str:
        """The CRM figures in Prometheus' text exposition format (docs/metrics.md), for a
        /metrics route. ``sources`` as for :meth:`crm_stats`; ``spool``: a spool directory
        whose depth to include."""
        with self._lock:
            return _core.crm_metrics(self._conn, _sources(sources),
                                     None if spool is None else os.fsdecode(spool))

    def crm_stats_rebuild(self) -> None:
        """Recount the CRM counters from the tables (only needed after writes with the
        triggers disabled)."""
        with self._lock:
            _core.crm_stats_rebuild(self._conn)
