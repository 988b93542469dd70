# SPDX-License-Identifier: MIT
"""HubSpot webhook signatures (docs/hubspot.md): :class:`HubSpotVerifier` and the one-off
helpers. :meth:`Connection.hubspot_process` (webhooks.py) verifies and ingests in one call."""

import enum
import threading
from typing import Dict, Iterable, Literal, Optional, Union

from . import core as _core
from ._support import _Key, _Keys
from .core import InvalidError

#: HubSpot signature version names ("v1", "v2", "v3"): one, or several.
_Versions = Union[str, Iterable[str]]

_HUBSPOT_VERSIONS: Dict[str, int] = {"v1": _core.HUBSPOT_VERSION_V1, "v2": _core.HUBSPOT_VERSION_V2,
                     "v3": _core.HUBSPOT_VERSION_V3}


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

    def __init__(self, secrets: _Keys = (), *, versions: Optional[_Versions] = None,
                 tolerance_ms: Optional[int] = None, now_ms: Optional[int] = None,
                 max_body: Optional[int] = None) -> None:
        self._lock = threading.Lock()
        self._v = _core.HubSpotVerifier()
        if isinstance(secrets, (str, bytes)):
            secrets = [secrets]
        for secret in secrets:
            self.add_secret(secret)
        if versions is not None:
            self.versions = versions
        if tolerance_ms is not None:
            if int(tolerance_ms) < 1:
                raise InvalidError("the HubSpot tolerance must be 1 ms or more")
            _core.hubspot_verifier_set_tolerance(self._v, int(tolerance_ms) * 1000)
        if now_ms is not None:
            self.now_ms = now_ms
        if max_body is not None:
            _core.hubspot_verifier_set_max_body(self._v, int(max_body))

    def add_secret(self, secret: _Key) -> None:
        """Add a client secret (at most 8; TooBigError beyond)."""
        with self._lock:
            _core.hubspot_verifier_add_secret(self._v, secret)

    def clear_secrets(self) -> None:
        """Forget every secret: every request then fails with NoKeyError."""
        with self._lock:
            _core.hubspot_verifier_clear_secrets(self._v)

    # The getters of the write-only properties are typed as their setters: mypy checks an
    # assignment against the getter's type.
    @property
    def versions(self) -> _Versions:
        raise AttributeError("versions is write-only")

    @versions.setter
    def versions(self, names: _Versions) -> None:
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
    def now_ms(self) -> Optional[int]:
        raise AttributeError("now_ms is write-only")

    @now_ms.setter
    def now_ms(self, ms: Optional[int]) -> None:
        """A fixed clock in ms since the epoch; None returns to the system clock."""
        if ms is not None and int(ms) < 0:
            raise InvalidError("now_ms must not be negative")
        with self._lock:
            # The library takes microseconds; 0 is its "system clock".
            _core.hubspot_verifier_set_now(self._v, 0 if ms is None else max(int(ms) * 1000, 1))

    def verify(self, *, method: Optional[str], uri: Optional[str], body: Union[bytes, str],
               signature: Optional[str], timestamp: Optional[str] = None,
               version: Optional[str] = "v3") -> int:
        """Verify one request over the exact body bytes received (bytes; a str is taken as
        UTF-8). Header values may be None when missing. Returns the index of the secret that
        matched. Raises :class:`AuthError` (refuse the request: the message says why),
        :class:`NoKeyError` (no secret configured), :class:`TooBigError` (body over the
        limit), :class:`InvalidError` (unknown version name)."""
        with self._lock:
            return _core.hubspot_verify(self._v, version, method, uri, timestamp, signature, body)


class _Unset(enum.Enum):
    """The default of an option whose None means something else than "not given"."""

    UNSET = enum.auto()


def hubspot_verify(secret: _Keys, *, method: Optional[str], uri: Optional[str],
                   body: Union[bytes, str], signature: Optional[str],
                   timestamp: Optional[str] = None, version: str = "v3",
                   versions: Union[_Versions, None, Literal[_Unset.UNSET]] = _Unset.UNSET,
                   tolerance_ms: Optional[int] = None, now_ms: Optional[int] = None,
                   max_body: Optional[int] = None) -> int:
    """Verify one request with a one-off :class:`HubSpotVerifier` (``secret`` a str or a list
    of them; options as for the class, e.g. ``versions=("v1", "v2", "v3")`` to accept v1/v2
    when ``version`` names them; not given: ``version`` alone). Returns the index of the
    matching secret; raises as :meth:`HubSpotVerifier.verify`."""
    # None given explicitly is the class's default (v3 only), as when the options were **kwargs.
    return HubSpotVerifier(
        secret, versions=(version,) if versions is _Unset.UNSET else versions,
        tolerance_ms=tolerance_ms, now_ms=now_ms, max_body=max_body).verify(
        method=method, uri=uri, body=body, signature=signature, timestamp=timestamp,
        version=version)


def hubspot_sign(secret: _Key, *, body: Union[bytes, str], method: Optional[str] = None,
                 uri: Optional[str] = None, timestamp: Union[str, int, None] = None,
                 version: str = "v3") -> str:
    """The signature HubSpot would send (Base64 for v3, hex for v1/v2), to test an endpoint."""
    if version not in _HUBSPOT_VERSIONS:
        raise ValueError(f"unknown HubSpot signature version {version!r}")
    if timestamp is not None:
        timestamp = str(timestamp)
    return _core.hubspot_sign(_HUBSPOT_VERSIONS[version], secret, method, uri, timestamp, body)


def hubspot_decode_uri(uri: str) -> str:
    """The URI as HubSpot decodes it before signing with v3 (12 escapes decoded)."""
    return _core.hubspot_decode_uri(uri)

