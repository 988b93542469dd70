# SPDX-License-Identifier: MIT
"""The webhook and event-log methods of :class:`Connection` (docs/webhooks.md, docs/odoo.md,
docs/hubspot.md, docs/events.md). What they take and return lives by concern: hubspot.py (the
signature verifier), odoo_webhook.py (Odoo's key check), webhook_entry.py (every CRM through
one entry), events.py (the results and the event log's rows)."""

from typing import TYPE_CHECKING, Iterable, List, Optional, Tuple, Union

from . import core as _core
from ._support import _body, _Key, _Keys, _RawBody
from .core import Error, InvalidError
from .events import Event, EventBatch, EventResult, PruneReport, RetryReport, _attach_result
from .hubspot import HubSpotVerifier
from .odoo_webhook import _expected_keys, _odoo_process, _presented_key
from .spool import _SpoolLike
from .webhook_entry import (WebhookConfig, WebhookResponse, _Clock, _Config, _Headers,
                            _webhook_process)

if TYPE_CHECKING:
    from .connection import _CallLock


class _WebhookMethods:
    """The webhook and event-log methods of :class:`fastepost.Connection` (mixed in there:
    they use its ``_lock`` and ``_conn``)."""

    _lock: "_CallLock"
    _conn: _core.Conn

    def odoo_process(self, body: _RawBody, api_key: Optional[_Key] = None,
                     expected_keys: Optional[_Keys] = None, event: Optional[str] = None,
                     content_type: Optional[str] = None, max_body: Optional[int] = None,
                     max_depth: Optional[int] = None, barcode_fields: Optional[str] = None,
                     spool: Optional[_SpoolLike] = None, *,
                     host_authenticated: bool = False) -> EventResult:
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

    def odoo_process_batch(self, bodies: Iterable[_RawBody],
                           api_key: Union[_Key, List[Optional[_Key]],
                                          Tuple[Optional[_Key], ...], None] = None,
                           expected_keys: Optional[_Keys] = None, event: Optional[str] = None,
                           content_type: Optional[str] = None, max_body: Optional[int] = None,
                           max_depth: Optional[int] = None, barcode_fields: Optional[str] = None,
                           *, host_authenticated: bool = False) -> EventBatch:
        """Process several deliveries in one transaction (each in a savepoint: a failing one
        does not affect the others). Returns an :class:`EventBatch` (iterable: one
        :class:`EventResult` per body, each with its own ``code``). Raises when the batch could
        not be committed (``e.result`` the batch). Never spools: a batch is all or nothing.

        :param api_key: the key each request presented: a list with one per body, or one key
            for all; checked as by :meth:`odoo_process`, and a refused delivery gets its own
            401 result (``code`` AuthError or NoKeyError) without anything written."""
        keys = _expected_keys(expected_keys)
        raw = [_body(b) for b in bodies]
        presented: List[_Key]
        if isinstance(api_key, (list, tuple)):
            if len(api_key) != len(raw):
                raise InvalidError(f"{len(api_key)} keys for {len(raw)} bodies")
            presented = [_presented_key(k) or "" for k in api_key]
        else:
            presented = [_presented_key(api_key) or ""] * len(raw)
        try:
            with self._lock:
                rs = _core.odoo_process_batch(self._conn, raw, presented, keys,
                                              int(bool(host_authenticated)), event, content_type,
                                              int(max_body or 0), int(max_depth or 0), barcode_fields)
        except Error as e:
            _attach_result(e, EventBatch._from)
            raise
        return EventBatch._from(rs)

    def hubspot_process(self, body: _RawBody, secrets: _Keys = (), *,
                        method: Optional[str] = "POST", uri: Optional[str] = None,
                        timestamp: Union[str, int, None] = None,
                        signature: Optional[str] = None, version: Optional[str] = "v3",
                        now_ms: Optional[int] = None, max_events: Optional[int] = None,
                        verifier: Optional[HubSpotVerifier] = None) -> EventBatch:
        """Verify a HubSpot webhook request and ingest its batch (docs/hubspot.md). Pass
        ``secrets`` (the app's client secrets) or a ready :class:`HubSpotVerifier`. Header
        values may be None when missing. Returns an :class:`EventBatch` (events that failed
        alone are in it with their own code). A refused request raises :class:`AuthError`,
        :class:`NoKeyError`, :class:`ParseError`, :class:`TooBigError` ... with
        ``http_status`` and ``result`` (the :class:`EventBatch`, no events)."""
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
            _attach_result(e, EventBatch._from)
            raise
        return EventBatch._from(d)

    def webhook_process(self, source: str, body: _RawBody, headers: _Headers = None,
                        config: "_Config" = None, method: Optional[str] = "POST",
                        url: Optional[str] = "", spool: Optional[_SpoolLike] = None,
                        clock: Optional[_Clock] = None) -> "WebhookResponse":
        """Process one webhook request from any CRM ("odoo", "hubspot", "pipedrive", "monday",
        "salesforce", "zoho"; see :func:`webhook_sources`) and return the :class:`WebhookResponse`
        to send: a monday.com challenge is answered, the request is verified (constant time; no
        configuration for the source: 401), parsed into its events and applied in one transaction.
        Never raises for what the request did: a refused (401), malformed (400) or unprocessable
        (503) request is a response too (``raise_for_status()`` turns it into an exception).

        :param body: the raw body, bytes (or str, as UTF-8)
        :param headers: the request's headers, a dict or (name, value) pairs (names compare
            without regard to case; None values are left out)
        :param config: a :class:`WebhookConfig` (build it once), or a dict / JSON text parsed for
            this call; None refuses every source
        :param method: the HTTP method as received
        :param url: the full public URL the request was sent to (monday.com's JWT ``aud``,
            HubSpot's signature)
        :param spool: with a dict config: a :class:`Spool` or directory (see :class:`WebhookConfig`)
        :param clock: with a dict config: a fixed clock (datetime or Unix seconds)
        :raises TypeError, InvalidError: the caller's mistakes (a header that is not a str or holds
            a NUL byte, a config that is not JSON or has an unknown key)
        """
        return _webhook_process(self, source, body, headers, config, method, url, spool, clock)

    def events(self, source: Optional[str] = None, status: Optional[str] = None,
               limit: Optional[int] = 50) -> List[Event]:
        """The newest integration events as :class:`Event` objects, optionally only of one
        ``source`` ("odoo", "hubspot") or ``status`` ("pending", "success", "error", "dead");
        ``limit`` 0 or None for the library's default (100)."""
        limit = int(limit or 0)
        if limit < 0:
            raise InvalidError(f"the limit must not be negative, not {limit}")
        with self._lock:
            return [Event(**d) for d in _core.events_list(self._conn, source, status, limit)]

    def events_retry(self, limit: Optional[int] = 100,
                     config: Optional["WebhookConfig"] = None) -> RetryReport:
        """Process again the events that failed transiently and are due (at most ``limit``;
        0 or None for the library's default, 100); a :class:`RetryReport`. ``config``: the
        :class:`WebhookConfig` the deliveries came in with, so that each payload is read with
        its source's section (Odoo's barcode fields, monday's board columns); None for none."""
        limit = int(limit or 0)
        if limit < 0:
            raise InvalidError(f"the limit must not be negative, not {limit}")
        if config is not None and not isinstance(config, WebhookConfig):
            raise TypeError(f"config must be a WebhookConfig or None, not {type(config).__name__}")
        with self._lock:
            if config is None:
                return RetryReport(**_core.events_retry(self._conn, limit))
            return RetryReport(**_core.webhook_events_retry(self._conn, limit, config._c))

    def prune_events(self, older_than_days: int, status: str = "success",
                     batch_size: int = 0) -> PruneReport:
        """Delete the events older than ``older_than_days`` (7 or more) in short batches of
        ``batch_size`` rows (0: 1000); ``status`` "success" or "all". A :class:`PruneReport`.

        :raises InvalidError: fewer than 7 days, an unknown status or batch size; nothing deleted
        :raises DatabaseError: a batch failed (the exception's ``report`` has what was deleted)
        """
        with self._lock:
            try:
                d = _core.events_prune(self._conn, int(older_than_days), status, int(batch_size))
            except Error as e:
                if isinstance(getattr(e, "report", None), dict):
                    e.report = PruneReport(**e.report)
                raise
        return PruneReport(**d)

