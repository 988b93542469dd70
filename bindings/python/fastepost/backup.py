# SPDX-License-Identifier: MIT
"""Backups (docs/backup.md): :class:`BackupDir`, :class:`BackupInfo` and
:meth:`Connection.backup`."""

import datetime
import os
import threading
from typing import IO, TYPE_CHECKING, Any, Callable, List, Literal, Optional, Union, cast

from . import core as _core
from ._support import Result, _Path, _Progress

if TYPE_CHECKING:
    from .connection import Connection


_BACKUP_FORMATS = {"plain": _core.BACKUP_FORMAT_PLAIN, "custom": _core.BACKUP_FORMAT_CUSTOM}
_BACKUP_TOOLS = {"pg_dump": _core.BACKUP_TOOL_PG_DUMP, "pg_restore": _core.BACKUP_TOOL_PG_RESTORE,
                 "psql": _core.BACKUP_TOOL_PSQL}
# The environment variables that name a tool (the library reads none: this layer passes them on).
_TOOL_VARS = {"pg_dump": "FASTEPOST_PG_DUMP", "pg_restore": "FASTEPOST_PG_RESTORE",
              "psql": "FASTEPOST_PSQL"}
_US_PER_DAY = 86400 * 1000000


class BackupInfo(Result):
    """One backup: ``name``, ``size_bytes``, ``created_at`` and ``created_at_us`` (when it was
    started, ISO 8601 UTC text and microseconds since the epoch; :attr:`created` gives it as a
    UTC :class:`datetime.datetime`), ``format`` ("plain" or "custom"), ``kind`` ("full" or
    "table") and ``table`` (the table of a table backup, else None). ``to_dict()`` has the keys
    and types of the CLI's ``--json``."""

    __slots__ = ("name", "size_bytes", "created_at", "created_at_us", "format", "kind", "table")
    name: str
    size_bytes: int
    created_at: Optional[str]
    created_at_us: Optional[int]
    format: str
    kind: str
    table: Optional[str]

    @property
    def created(self) -> Optional[datetime.datetime]:
        """The start time as an aware UTC :class:`datetime.datetime` (None when the backup's
        start time is unknown, as ``created_at_us`` is then)."""
        if self.created_at_us is None:  # was a TypeError from timedelta (found by mypy)
            return None
        return (datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
                + datetime.timedelta(microseconds=self.created_at_us))

    @classmethod
    def _from(cls, d: "dict[str, Any]") -> "BackupInfo":
        return cls(**d)


def default_dir() -> str:
    """The per-user default backup directory: ``$FASTEPOST_BACKUP_DIR``, else
    ``$XDG_STATE_HOME/fastepost/backups`` (an absolute XDG_STATE_HOME only), else
    ``~/.local/state/fastepost/backups`` (NotFoundError when none is usable)."""
    env = os.environ.get("FASTEPOST_BACKUP_DIR")
    if env:
        return os.path.abspath(env)
    return _core.backup_default_dir(os.environ.get("XDG_STATE_HOME"), os.environ.get("HOME"))


class BackupDir:
    """A backup directory (docs/backup.md); ``path`` None uses :func:`default_dir`, a relative
    path is taken from the working directory now. It must be the user's own and not writable
    by others. The library reads no environment: this constructor passes ``$FASTEPOST_PG_DUMP``,
    ``$FASTEPOST_PG_RESTORE``, ``$FASTEPOST_PSQL`` and ``$PATH`` on (see :meth:`set_tool` and
    :meth:`set_search_path` to choose otherwise). pg_dump, pg_restore and psql run with the GIL
    released."""

    def __init__(self, path: Optional[_Path] = None) -> None:
        self._lock = threading.RLock()
        self._d = _core.BackupDir(default_dir() if path is None else os.path.abspath(os.fsdecode(path)))
        for tool, var in _TOOL_VARS.items():
            if os.environ.get(var):
                self.set_tool(tool, os.environ[var])
        self.set_search_path(os.environ.get("PATH"))

    @property
    def dir(self) -> str:
        """The absolute directory path."""
        return _core.backup_dir_path(self._d)

    def set_tool(self, tool: str, path: Optional[_Path]) -> None:
        """Run this program as ``tool`` ("pg_dump", "pg_restore" or "psql") instead of searching
        for it; None goes back to searching."""
        if tool not in _BACKUP_TOOLS:
            raise ValueError(f"tool must be one of {sorted(_BACKUP_TOOLS)}, not {tool!r}")
        with self._lock:
            _core.backup_dir_set_tool(self._d, _BACKUP_TOOLS[tool], None if path is None else os.fsdecode(path))

    def set_search_path(self, search_path: Optional[str]) -> None:
        """Where to search for the tools: directories separated by ":" (a PATH value); None for
        the library's default (/usr/lib/postgresql/<server major>/bin, then
        /usr/local/bin:/usr/bin:/bin)."""
        with self._lock:
            _core.backup_dir_set_search_path(self._d, search_path)

    def create(self, conn: "Connection", *, format: str = "plain", table: Optional[str] = None,
               progress: _Progress = None) -> str:
        """Back up ``conn``'s database (or one ``table``) with pg_dump as "plain" SQL or
        "custom"; returns the new backup's name. ``progress(rows, bytes)`` is called as the
        dump grows (returning False cancels)."""
        if format not in _BACKUP_FORMATS:
            raise ValueError(f"format must be 'plain' or 'custom', not {format!r}")
        with conn._lock, self._lock:
            return _core.backup_create(self._d, conn._conn, _BACKUP_FORMATS[format], table, progress)

    def list(self, limit: Optional[int] = 10) -> List[BackupInfo]:
        """The backups, newest first, as :class:`BackupInfo` (``limit`` None or 0 for all)."""
        limit = int(limit or 0)
        if limit < 0:
            raise ValueError(f"limit must be 0 (all) or more, not {limit}")
        with self._lock:
            return [BackupInfo._from(d) for d in _core.backup_list(self._d, limit)]

    def path(self, name: str) -> str:
        """The absolute path of a backup (NotFoundError/InvalidError for a bad name)."""
        return _core.backup_path(self._d, name)

    def open(self, name: str) -> IO[bytes]:
        """The backup as a binary file object opened for reading (close it, or use ``with``)."""
        return os.fdopen(_core.backup_open(self._d, name), "rb")

    def verify(self, name: str, conn: Optional["Connection"] = None, *,
               deep: bool = False) -> Literal[True]:
        """Check the checksum (and for ``deep``, a test restore, which needs ``conn``); raises
        on a bad backup, returns True."""
        with self._lock:
            if conn is None:
                _core.backup_verify(self._d, None, name, int(bool(deep)))
            else:
                with conn._lock:
                    _core.backup_verify(self._d, conn._conn, name, int(bool(deep)))
        return True

    def prune(self, keep: Optional[int] = None, older_than_days: Optional[float] = None, *,
              all: bool = False) -> List[BackupInfo]:
        """Remove old backups: all but the ``keep`` newest of each kind and/or those started more
        than ``older_than_days`` days ago (with both, only those beyond ``keep`` *and* older);
        at least one rule (InvalidError otherwise; ``keep=0`` is no rule). ``all=True`` removes
        every backup. Returns the removed :class:`BackupInfo`, newest first."""
        if all:
            if keep is not None or older_than_days is not None:
                raise ValueError("all=True removes every backup; it takes no keep or older_than_days")
            with self._lock:
                removed = _core.backup_prune_all(self._d)
            return [BackupInfo._from(d) for d in removed]
        keep = 0 if keep is None else int(keep)
        if keep < 0:
            raise ValueError(f"keep must be 1 or more, not {keep}")
        older_us = 0
        if older_than_days is not None:
            if older_than_days < 0:
                raise ValueError(f"older_than_days must be 0 or more, not {older_than_days}")
            older_us = max(1, int(older_than_days * _US_PER_DAY))  # 0 days: started before now
        with self._lock:
            removed = _core.backup_prune(self._d, keep, older_us)
        return [BackupInfo._from(d) for d in removed]

    def restore(self, name: str, conn: "Connection", target: str, *, force: bool = False) -> None:
        """Restore a backup into the database ``target`` (a conninfo or URL); restoring into
        ``conn``'s own database needs ``force=True``."""
        with conn._lock, self._lock:
            _core.backup_restore(self._d, conn._conn, name, target, int(bool(force)))

    def __repr__(self) -> str:
        return f"<fastepost.BackupDir {self.dir!r}>"


def _backup_dir(backups: Union["BackupDir", _Path, None]) -> Optional["BackupDir"]:
    if backups is None or isinstance(backups, BackupDir):
        return backups
    return BackupDir(backups)


class _BackupMethods:
    """The backup method of :class:`fastepost.Connection` (mixed in there)."""

    def backup(self, dir: Union[BackupDir, _Path, None] = None, *, format: str = "plain",
               table: Optional[str] = None, progress: _Progress = None) -> str:
        """Back up the database into ``dir`` (a path or :class:`BackupDir`; None: the
        default); returns the backup's name. See :meth:`BackupDir.create`."""
        # (cast: this mixin is only ever part of a Connection)
        return (_backup_dir(dir) or BackupDir()).create(
            cast("Connection", self), format=format, table=table, progress=progress)
