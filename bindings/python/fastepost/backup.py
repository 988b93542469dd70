"""Backups (docs/backup.md): :class:`BackupDir`, :class:`BackupInfo` and
:meth:`Connection.backup`."""

import datetime
import os
import threading

from . import core as _core
from ._support import Result

_BACKUP_FORMATS = {"plain": _core.BACKUP_PLAIN, "custom": _core.BACKUP_CUSTOM}


class BackupInfo(Result):
    """One backup: ``name``, ``size`` in bytes, ``time`` (a UTC :class:`datetime.datetime`, when
    it was started), ``format`` ("plain" or "custom"), ``kind`` ("full" or "table") and
    ``table`` (the table of a table backup, else None)."""

    __slots__ = ("name", "size", "time", "format", "kind", "table")

    @classmethod
    def _from(cls, d):
        return cls(**dict(d, time=datetime.datetime.fromtimestamp(d["time"], datetime.timezone.utc)))


class BackupDir:
    """A backup directory (docs/backup.md); ``path`` None uses ``$FASTEPOST_BACKUP_DIR``, else
    ``$XDG_STATE_HOME/fastepost/backups``, else ``~/.local/state/fastepost/backups``. It must be
    the user's own and not writable by others. The environment (PATH, FASTEPOST_PG_*) is read
    once, here. pg_dump, pg_restore and psql run with the GIL released."""

    def __init__(self, path=None):
        self._lock = threading.RLock()
        self._d = _core.BackupDir(_core.backup_default_dir() if path is None else os.fsdecode(path))

    @property
    def dir(self):
        """The absolute directory path."""
        return _core.backup_dir_path(self._d)

    def create(self, conn, *, format="plain", table=None, progress=None):
        """Back up ``conn``'s database (or one ``table``) with pg_dump as "plain" SQL or
        "custom"; returns the new backup's name. ``progress(rows, bytes)`` is called as the
        dump grows (returning False cancels)."""
        if format not in _BACKUP_FORMATS:
            raise ValueError(f"format must be 'plain' or 'custom', not {format!r}")
        with conn._lock, self._lock:
            return _core.backup_create(self._d, conn._conn, _BACKUP_FORMATS[format], table, progress)

    def list(self, limit=10):
        """The backups, newest first, as :class:`BackupInfo` (``limit`` None or 0 for all)."""
        with self._lock:
            return [BackupInfo._from(d) for d in _core.backup_list(self._d, int(limit or 0))]

    def path(self, name):
        """The absolute path of a backup (NotFoundError/InvalidError for a bad name)."""
        return _core.backup_path(self._d, name)

    def open(self, name):
        """The backup as a binary file object opened for reading (close it, or use ``with``)."""
        return os.fdopen(_core.backup_open(self._d, name), "rb")

    def verify(self, name, conn=None, *, deep=False):
        """Check the checksum (and for ``deep``, a test restore, which needs ``conn``); raises
        on a bad backup, returns True."""
        with self._lock:
            if conn is None:
                _core.backup_verify(self._d, None, name, int(bool(deep)))
            else:
                with conn._lock:
                    _core.backup_verify(self._d, conn._conn, name, int(bool(deep)))
        return True

    def prune(self, keep=None, older_than_days=None):
        """Remove old backups: all but the ``keep`` newest of each kind (at least 1: 0 raises
        InvalidError) and/or those older than ``older_than_days``. Returns the removed
        :class:`BackupInfo`, newest first."""
        with self._lock:
            removed = _core.backup_prune(self._d, -1 if keep is None else int(keep),
                                         -1 if older_than_days is None else int(older_than_days))
        return [BackupInfo._from(d) for d in removed]

    def restore(self, name, conn, target, *, force=False):
        """Restore a backup into the database ``target`` (a conninfo or URL); restoring into
        ``conn``'s own database needs ``force=True``."""
        with conn._lock, self._lock:
            _core.backup_restore(self._d, conn._conn, name, target, int(bool(force)))

    def __repr__(self):
        return f"<fastepost.BackupDir {self.dir!r}>"


def _backup_dir(backups):
    if backups is None or isinstance(backups, BackupDir):
        return backups
    return BackupDir(backups)


class _BackupMethods:
    """The backup method of :class:`fastepost.Connection` (mixed in there)."""

    def backup(self, dir=None, *, format="plain", table=None, progress=None):
        """Back up the database into ``dir`` (a path or :class:`BackupDir`; None: the
        default); returns the backup's name. See :meth:`BackupDir.create`."""
        return _backup_dir(dir if dir is not None else BackupDir()).create(
            self, format=format, table=table, progress=progress)
