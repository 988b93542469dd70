# SPDX-License-Identifier: MIT
"""What every module of the package shares: the SWIG module, the version check and the base
class of the result objects.

Imported first by every other module, so that a binding compiled for another ABI is refused
before anything calls into the library.
"""

import os
from typing import Any, Callable, Iterable, Optional, Union

from . import core as _core

#: A file system path as the package takes it (str, bytes or os.PathLike).
_Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: A progress callback, ``progress(rows, bytes)``; returning ``False`` stops the call.
_Progress = Optional[Callable[[int, int], object]]
#: A request body as the layer takes it (copied to bytes when mutable; str is sent as UTF-8).
_RawBody = Union[bytes, bytearray, memoryview, str]
#: A secret or an API key: str, or bytes for one that is not text.
_Key = Union[str, bytes]
#: One secret / key, or several (during a rotation).
_Keys = Union[_Key, Iterable[_Key]]

#: The version of the headers this binding was compiled against.
__version__ = _core.VERSION


def version() -> str:
    """The version of the libfastepost actually loaded, e.g. ``"1.0.0"``."""
    return _core.libversion()[0]


def version_info() -> tuple[int, ...]:
    """The loaded library's version as a tuple ``(major, minor, patch)``."""
    return tuple(_core.libversion()[1:])


# A binding compiled for one ABI must not run on another: refuse to import rather than crash.
if version_info()[0] != _core.VERSION_MAJOR:
    raise ImportError(
        f"fastepost: compiled for libfastepost {__version__} but loaded {version()}")


class Result:
    """Base of the result objects: plain attributes, ``to_dict()``, equality and a repr.

    Results own their data (nothing points back into a connection), so they outlive it.
    """

    __slots__: tuple[str, ...] = ()

    def __init__(self, **fields: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, fields[name])

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict; nested results become dicts too."""
        return {name: _plain(getattr(self, name)) for name in self.__slots__}

    def __eq__(self, other: object) -> bool:
        # (isinstance, implied by the identical type, tells the type checker other has to_dict)
        return (type(self) is type(other) and isinstance(other, Result)
                and self.to_dict() == other.to_dict())

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({fields})"


def _plain(value: Any) -> Any:
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _body(body: Union[bytes, bytearray, memoryview, str, None]) -> Union[bytes, str, None]:
    """bytes or str as they are; a bytearray or memoryview copied to bytes, since another
    thread could resize it while the call runs without the GIL."""
    if isinstance(body, (bytes, str)) or body is None:
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"body must be bytes or str, not {type(body).__name__}")
