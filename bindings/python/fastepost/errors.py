# SPDX-License-Identifier: MIT
"""The exception classes and the error-code helpers of :mod:`fastepost`.

Every failure raises a subclass of :class:`Error` named after the error code, with the
attributes ``code``, ``sqlstate`` and ``message``. The classes are created in C by the SWIG
module (so that they exist before anything can raise) and re-exported here.
"""

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
    "AuthError", "BusyError", "FullError", "ReadOnlyError", "TimeoutError", "CanceledError",
    "ConflictError", "ConnectionError", "DatabaseError", "Error", "ExternalError",
    "InvalidError", "IOError", "NoKeyError", "NoMemoryError", "NotFoundError", "ParseError",
    "TooBigError", "VersionError", "strerror", "error_name",
]


def strerror(code: int) -> str:
    """Fixed English text for an error code (``fastepost.core.EDB`` ...)."""
    return _core.strerror(code)


def error_name(code: int) -> str:
    """The symbolic name of an error code, e.g. ``"FASTEPOST_EDB"``."""
    return _core.error_name(code)
