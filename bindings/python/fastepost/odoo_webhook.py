# SPDX-License-Identifier: MIT
"""Odoo webhook deliveries (docs/odoo.md): the API key check and :func:`odoo_process` for a
host that may have no connection (the :class:`Connection` methods are in webhooks.py)."""

import os
from typing import TYPE_CHECKING, List, Literal, Optional

from . import core as _core
from ._support import _body, _Key, _Keys, _RawBody
from .core import Error, InvalidError
from .events import EventResult, _attach_result
from .spool import _spool, _SpoolLike

if TYPE_CHECKING:
    from .connection import Connection
    from .webhooks import _WebhookMethods


def odoo_authenticate(expected: Optional[_Key], presented: Optional[_Key]) -> Literal[True]:
    """Check the key an Odoo request presented (header ``X-Odoo-Api-Key`` or ``?api_key=``)
    in constant time. ``expected`` None reads ``ODOO_API_KEY`` (at call time). Returns True;
    raises :class:`NoKeyError` when no key is configured, :class:`AuthError` for a missing or
    wrong key (both have ``http_status`` 401). :meth:`Connection.odoo_process` checks the key
    itself: this is for hosts that check it elsewhere."""
    if expected is None:
        expected = os.environ.get("ODOO_API_KEY")
    _core.odoo_authenticate(expected, presented)
    return True


def _has_nul(key: _Key) -> bool:
    return b"\0" in key if isinstance(key, bytes) else "\0" in key


def _expected_keys(expected_keys: Optional[_Keys]) -> List[_Key]:
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
        if not k or _has_nul(k):
            raise InvalidError("an expected Odoo API key must not be empty or contain a NUL byte")
    return keys


def _presented_key(api_key: Optional[_Key]) -> Optional[_Key]:
    """None, "" and a key with a NUL byte all reach the library as no key or a wrong one."""
    if api_key is None or isinstance(api_key, (str, bytes)):
        if api_key is not None and _has_nul(api_key):
            return ""
        return api_key
    raise TypeError(f"api_key must be str or bytes, not {type(api_key).__name__}")

def _odoo_process(conn: Optional["_WebhookMethods"], body: _RawBody, api_key: Optional[_Key],
                  expected_keys: Optional[_Keys], host_authenticated: bool, event: Optional[str],
                  content_type: Optional[str], max_body: Optional[int], max_depth: Optional[int],
                  barcode_fields: Optional[str], spool: Optional[_SpoolLike]) -> EventResult:
    keys = _expected_keys(expected_keys)
    api_key = _presented_key(api_key)
    spool = _spool(spool)
    args = (_body(body), api_key, keys, int(bool(host_authenticated)), event, content_type,
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


def odoo_process(body: _RawBody, conn: Optional["Connection"] = None, *,
                 api_key: Optional[_Key] = None, expected_keys: Optional[_Keys] = None,
                 spool: Optional[_SpoolLike] = None, host_authenticated: bool = False,
                 event: Optional[str] = None, content_type: Optional[str] = None,
                 max_body: Optional[int] = None, max_depth: Optional[int] = None,
                 barcode_fields: Optional[str] = None) -> EventResult:
    """:meth:`Connection.odoo_process` for a host that may have no connection: with ``conn``
    None (connecting failed) the delivery goes straight to ``spool`` (a :class:`Spool` or a
    directory; required then) and the result says "spooled", ``http_status`` 202. The key is
    checked first, also then: a refused request is never spooled."""
    return _odoo_process(conn, body, api_key, expected_keys, host_authenticated, event,
                         content_type, max_body, max_depth, barcode_fields, spool)

