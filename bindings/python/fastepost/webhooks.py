"""Webhooks and the event log: HubSpot signatures (docs/hubspot.md), Odoo deliveries
(docs/odoo.md), the webhook methods of :class:`Connection` and their results."""

import os
import threading

from . import core as _core
from ._support import Result, _body
from .core import Error, InvalidError
from .spool import Spool

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


# -- Odoo deliveries and the event log --------------------------------------------------

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


class PruneReport(Result):
    """What :meth:`Connection.prune_events` did: rows ``deleted``, ``batches`` committed, and
    the UTC ``cutoff`` ("YYYY-MM-DD HH:MM:SS.ffffff") older rows were deleted before."""

    __slots__ = ("deleted", "batches", "cutoff")


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


class _WebhookMethods:
    """The webhook and event-log methods of :class:`fastepost.Connection` (mixed in there:
    they use its ``_lock`` and ``_conn``)."""

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

    def prune_events(self, older_than_days, status="success", batch_size=0):
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
