# SPDX-License-Identifier: MIT
"""Odoo both ways (docs/odoo-sync.md): the reconciliation pull and the push-back, with their
methods of :class:`Connection`.

The API key is passed in memory (read it from the host's secret store or a key file), copied
into the library's options and wiped when they are collected; it never goes into a URL, a log
line or an error message. The reports have the keys of ``fastepost odoo pull --json`` and
``fastepost odoo push --json``."""

from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Type, TypeVar, Union

from . import core as _core
from ._support import Result
from .errors import Error

if TYPE_CHECKING:
    from .connection import _CallLock


class OdooPullReport(Result):
    """What :meth:`Connection.odoo_pull` did: records ``fetched``, each outcome's count, the
    records that ``failed`` alone, customers made inactive (``deleted``), ``pages`` committed,
    and ``cursors``: {model: the cursor after the pull in microseconds since the epoch, or
    None}."""

    __slots__ = ("status", "fetched", "created", "updated", "unchanged", "stale", "ignored",
                 "conflict", "duplicate", "failed", "deleted", "pages", "cursors")


class OdooPushReport(Result):
    """What :meth:`Connection.odoo_push` did: outbox rows ``attempted``, Odoo records
    ``written`` and ``created``, ``conflicts`` (Odoo changed after the version last synced),
    rows ``skipped`` (customer gone or unlinked, record gone from Odoo) and ``failed`` (kept for
    a later attempt)."""

    __slots__ = ("status", "attempted", "written", "created", "conflicts", "skipped", "failed")


def _options(url: str, api_key: Union[str, bytes], database: Optional[str], user: Optional[str],
             protocol: str, timeout: Optional[float], ca_file: Optional[str]) -> "_core.OdooSyncOptions":
    o = _core.OdooSyncOptions()
    _core.odoo_sync_options_set_url(o, url)
    if isinstance(api_key, bytes):
        api_key = api_key.decode("utf-8")
    _core.odoo_sync_options_set_api_key(o, api_key)
    _core.odoo_sync_options_set_database(o, database)
    _core.odoo_sync_options_set_user(o, user)
    _core.odoo_sync_options_set_protocol(o, _core.odoo_sync_protocol_parse(protocol))
    _core.odoo_sync_options_set_timeouts(o, 0, int(round((timeout or 0) * 1_000_000)))
    _core.odoo_sync_options_set_ca_file(o, ca_file)
    return o


_R = TypeVar("_R", OdooPullReport, OdooPushReport)


def _run(lock: "_CallLock", conn: "_core.Conn",
         fn: "Callable[[_core.Conn, _core.OdooSyncOptions], Dict[str, Any]]",
         opts: "_core.OdooSyncOptions", report: Type[_R]) -> _R:
    with lock:
        try:
            d = fn(conn, opts)
        except Error as e:
            if isinstance(getattr(e, "report", None), dict):
                e.report = report(**e.report)
            raise
    return report(**d)


class _OdooSyncMethods:
    """The Odoo pull and push methods of :class:`Connection` (it provides ``_conn`` and
    ``_lock``)."""

    if TYPE_CHECKING:
        _conn: _core.Conn
        _lock: _CallLock

    def odoo_pull(self, url: str, api_key: Union[str, bytes], *, database: Optional[str] = None,
                  user: Optional[str] = None, protocol: str = "auto",
                  models: str = "res.partner", since_us: int = 0, full: bool = False,
                  overlap: float = 0, page_size: int = 0, detect_deletions: bool = False,
                  timeout: Optional[float] = None,
                  ca_file: Optional[str] = None) -> OdooPullReport:
        """Pull what changed in Odoo since the last pull and sync it as webhook deliveries
        would (``fastepost odoo pull``). ``overlap`` and ``timeout`` in seconds (0/None: the
        defaults, 300 s and 60 s). An :class:`OdooPullReport`.

        :raises NoKeyError, AuthError: no key, or Odoo refused it
        :raises TimeoutError, ConnectionError, BusyError: Odoo slow, unreachable or busy (the
            exception's ``report`` counts what was committed)
        """
        o = _options(url, api_key, database, user, protocol, timeout, ca_file)
        _core.odoo_sync_options_set_models(o, models)
        _core.odoo_sync_options_set_since(o, int(since_us))
        _core.odoo_sync_options_set_full(o, int(bool(full)))
        _core.odoo_sync_options_set_overlap(o, int(round(overlap * 1_000_000)))
        _core.odoo_sync_options_set_page_size(o, int(page_size))
        _core.odoo_sync_options_set_detect_deletions(o, int(bool(detect_deletions)))
        return _run(self._lock, self._conn, _core.odoo_pull, o, OdooPullReport)

    def odoo_push(self, url: str, api_key: Union[str, bytes], *, database: Optional[str] = None,
                  user: Optional[str] = None, protocol: str = "auto", prefer: str = "remote",
                  limit: int = 0, timeout: Optional[float] = None,
                  ca_file: Optional[str] = None) -> OdooPushReport:
        """Send the queued local changes of Odoo-linked customers to Odoo (``fastepost odoo
        push``): compare-then-write on write_date; ``prefer`` "remote" (default: a record
        changed in Odoo meanwhile is kept, a conflict event logged) or "local" (ours
        overwrites it); at most ``limit`` rows (0: 500). An :class:`OdooPushReport`.

        :raises InvalidError: an unknown protocol or preference
        :raises NoKeyError, AuthError: no key, or Odoo refused it (the rows stay queued)
        :raises TimeoutError, ConnectionError, BusyError: Odoo slow, unreachable or busy
        """
        o = _options(url, api_key, database, user, protocol, timeout, ca_file)
        _core.odoo_sync_options_set_prefer(o, _core.odoo_sync_prefer_parse(prefer))
        _core.odoo_sync_options_set_push_limit(o, int(limit or 0))
        return _run(self._lock, self._conn, _core.odoo_push, o, OdooPushReport)
