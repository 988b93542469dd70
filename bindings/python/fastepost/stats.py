"""Figures: the CRM dashboard (docs/crm-stats.md), the database figures (docs/stats.md) and
the HTML report (docs/report.md), with their methods of :class:`Connection`."""

import os

from . import core as _core
from ._support import Result
from .backup import BackupDir, BackupInfo, _backup_dir


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


class _StatsMethods:
    """The figures and report methods of :class:`fastepost.Connection` (mixed in there: they
    use its ``_lock`` and ``_conn``)."""

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
