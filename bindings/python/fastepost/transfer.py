# SPDX-License-Identifier: MIT
"""Export and import (docs/transfer.md): :meth:`Connection.export`,
:meth:`Connection.export_all`, :meth:`Connection.import_csv` and their results."""

import codecs
import io
import os
from typing import (TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence, Tuple, Type,
                    Union)

from . import core as _core
from ._support import Result, _Path, _Progress
from .core import Error

if TYPE_CHECKING:
    from .connection import _CallLock

#: A filter of :meth:`Connection.export`: text, ``(column, op)`` or ``(column, op, value)``.
_Filter = Union[str, Tuple[str, str], Tuple[str, str, object]]
#: A sort key of :meth:`Connection.export`: ``"col"``, ``"-col"`` or ``(col, "asc"|"desc")``.
_OrderKey = Union[str, Tuple[str, str]]


class ImportRowError(Result):
    """One rejected value or row: ``line`` in the file (1 = header; 0 when no single row is
    concerned), ``column`` ("" for the whole row), ``value`` (a short preview, or "") and
    ``reason``."""

    __slots__ = ("line", "column", "value", "reason")
    line: int
    column: str
    value: str
    reason: str


class ImportReport(Result):
    """The outcome of :meth:`Connection.import_csv`: the ``table`` as given, row counts
    (``rows_written`` is 0 in a dry run and after any failure), ``error_total`` (a lower bound
    when ``errors_complete`` is False) and ``errors``, the first ``max_errors``
    :class:`ImportRowError`. ``to_dict()`` has the keys and types of ``fastepost import
    --json`` (which adds ``status``, and the error's ``code``, ``http_status`` and ``error``
    on failure)."""

    __slots__ = ("table", "dry_run", "rows_read", "rows_inserted", "rows_updated",
                 "rows_skipped", "rows_written", "bytes_read", "error_total", "errors_complete",
                 "errors")
    table: str
    dry_run: bool
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_skipped: int
    rows_written: int
    bytes_read: int
    error_total: int
    errors_complete: bool
    errors: "list[ImportRowError]"

    @classmethod
    def _from(cls, d: "dict[str, Any]", table: str) -> "ImportReport":
        d = dict(d, table=table, errors=[ImportRowError(**e) for e in d["errors"]])
        return cls(**d)

    @property
    def ok(self) -> bool:
        return self.error_total == 0


class ExportResult(Result):
    """What :meth:`Connection.export` wrote into a file: the ``format`` name, the ``output``
    path, the ``rows`` written (0 for "sql") and the file's size in ``bytes``. ``to_dict()``
    has the keys and types of ``fastepost export --output FILE --json`` (which adds
    ``status``)."""

    __slots__ = ("format", "output", "rows", "bytes")
    format: str
    output: str
    rows: int
    bytes: int

    @property
    def ok(self) -> bool:
        # An ExportResult is only returned by an export that finished (a failure raises).
        # (This read a nonexistent error_total, copied from ImportReport: AttributeError.)
        return True


def _check(name: str, value: object, types: Tuple[Type[Any], ...], what: str) -> None:
    """TypeError (the language's error for a wrong argument type) unless value is one of
    types; bool is not taken for a number."""
    if value is not None and (not isinstance(value, types) or
                              (isinstance(value, bool) and bool not in types)):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}")


def _writer(file: Any) -> Callable[[bytes], object]:
    """A write(bytes) callable for a file object: binary files get the bytes, text files
    (io.TextIOBase, or anything with an ``encoding``) the decoded text. Pieces may end inside
    a UTF-8 character, so text goes through an incremental decoder."""
    if isinstance(file, io.TextIOBase) or (
            not isinstance(file, (io.RawIOBase, io.BufferedIOBase)) and hasattr(file, "encoding")):
        decoder = codecs.getincrementaldecoder("utf-8")()

        def write_text(chunk: bytes) -> object:
            return file.write(decoder.decode(chunk))
        return write_text
    write: Callable[[bytes], object] = file.write
    return write


class _TextReader:
    """read(size) in bytes over a text file object: its text, encoded as UTF-8."""

    def __init__(self, file: Any) -> None:
        self.file = file
        self.pending = b""

    def read(self, size: int) -> bytes:
        while len(self.pending) < size:
            text = self.file.read(size)
            if not text:
                break
            self.pending += text.encode("utf-8")
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


def _reader(file: Any) -> Callable[[int], Optional[bytes]]:
    if isinstance(file, io.TextIOBase) or isinstance(file.read(0), str):
        return _TextReader(file).read
    read: Callable[[int], Optional[bytes]] = file.read
    return read


def _export_options(table: Optional[str], format: str, columns: Optional[Iterable[str]],
                    where: Optional[Iterable[_Filter]], order: Union[str, Iterable[_OrderKey], None],
                    limit: Optional[int], schemas: Optional[Iterable[str]]) -> _core.ExportOptions:
    _check("table", table, (str,), "a str")
    _check("format", format, (str,), "a str")
    _check("limit", limit, (int,), "an int")
    opts = _core.ExportOptions()
    # The library reads no environment: the sql format's pg_dump is FASTEPOST_PG_DUMP, else PATH's.
    _core.export_options_set_tool_path(opts, os.environ.get("FASTEPOST_PG_DUMP", ""))  # "": none
    _core.export_options_set_search_path(opts, os.environ.get("PATH", ""))
    _core.export_options_set_table(opts, table)
    _core.export_options_set_format(opts, _core.export_format_parse(format))
    for column in columns or ():
        _core.export_options_add_column(opts, column)
    for f in where or ():
        if isinstance(f, str):  # "email ilike %@x.de"
            _core.export_options_add_filter_expr(opts, f)
            continue
        column, op, *rest = f
        if len(rest) > 1:
            raise ValueError(f"a filter is (column, op[, value]), not {f!r}")
        given = rest[0] if rest else None
        value: Union[str, bytes, None]
        if given is None or isinstance(given, (str, bytes)):
            value = given
        else:
            value = str(given).lower() if isinstance(given, bool) else str(given)
        _core.export_options_add_filter(opts, column, _core.export_filter_op_parse(op), value)
    keys: Iterable[_OrderKey] = [order] if isinstance(order, str) else order or ()
    for key in keys:
        if isinstance(key, str):
            descending = key.startswith("-")
            column = key[1:] if descending else key
        else:
            column, direction = key
            descending = str(direction).lower() in ("desc", "descending")
        _core.export_options_add_order(opts, column, int(descending))
    if limit is not None:
        if limit <= 0:
            raise ValueError(f"limit must be a positive number of rows (None: all), not {limit}")
        _core.export_options_set_limit(opts, limit)
    for schema in schemas or ():
        _core.export_options_add_schema(opts, schema)
    return opts


class _TransferMethods:
    """The export and import methods of :class:`fastepost.Connection` (mixed in there: they
    use its ``_lock`` and ``_conn``)."""

    _lock: "_CallLock"
    _conn: _core.Conn

    def export(self, table: Optional[str] = None, *, format: str = "csv", file: Any = None,
               columns: Optional[Sequence[str]] = None, where: Optional[Sequence[_Filter]] = None,
               order: Union[str, Sequence[_OrderKey], None] = None, limit: Optional[int] = None,
               schemas: Optional[Sequence[str]] = None,
               progress: _Progress = None) -> Union[str, ExportResult, None]:
        """Export a table as ``format`` ("csv", "json", "ndjson" or "sql"; "sql" without a
        table dumps the whole database with pg_dump). See docs/transfer.md.

        :param file: None to return the output as a ``str``; a path (str or os.PathLike) to
            write a file (mode 0600, replaced whole or not at all), which returns an
            :class:`ExportResult`; or any object with ``write``:
            binary files get bytes, text files (``io.TextIOBase`` or with an ``encoding``)
            str. Nothing else is done with it (not flushed, not closed).
        :param columns: column names, in output order (default: all, in table order)
        :param where: filters combined with AND: ``(column, op, value)`` (op ``=``, ``!=``,
            ``<``, ``<=``, ``>``, ``>=``, ``like``, ``ilike``), ``(column, "is_null")``,
            ``(column, "not_null")``, or text such as ``"email ilike %@x.de"``. Values are
            checked against the column's type and quoted by libpq.
        :param order: a column, or a list of them; ``"-id"`` or ``("id", "desc")`` descending
        :param limit: at most this many rows (None: all)
        :param schemas: allow tables only from these schemas
        :param progress: ``progress(rows, bytes)``, called every so often and at the end;
            returning ``False`` stops the export (:class:`CanceledError`)
        :raises NotFoundError: unknown or disallowed table or column
        :raises InvalidError: a filter value that does not fit its column ...
        An exception raised in ``file.write`` or ``progress`` stops the export and propagates.
        """
        opts = _export_options(table, format, columns, where, order, limit, schemas)
        chunks: Optional[list[bytes]] = None
        write: Callable[[bytes], object]
        if file is None:
            chunks = []
            write = chunks.append
        elif isinstance(file, (str, bytes, os.PathLike)):
            path = os.fsdecode(file)
            with self._lock:
                rows = _core.export_to_file(self._conn, path, opts, progress)
            return ExportResult(format=_core.export_format_name(_core.export_format_parse(format)),
                                output=path, rows=rows, bytes=os.path.getsize(path))
        elif hasattr(file, "write"):
            write = _writer(file)
        else:
            raise TypeError(f"file must be None, a path or have write(), not {type(file).__name__}")
        with self._lock:
            _core.export_run(self._conn, write, opts, progress)
        return None if chunks is None else b"".join(chunks).decode("utf-8")

    def export_all(self, directory: _Path, *, format: str = "csv",
                   schemas: Optional[Sequence[str]] = None, progress: _Progress = None) -> int:
        """Export every table of the allowed schemas into ``directory`` (created, mode 0700),
        one file per table (``customers.csv``; ``schema.table.csv`` outside ``public``), in
        "csv", "json" or "ndjson". Returns the number of files written."""
        opts = _export_options(None, format, None, None, None, None, schemas)
        with self._lock:
            return _core.export_all(self._conn, os.fsdecode(directory), opts, progress)

    def import_csv(self, table: str, source: Any, *, dry_run: bool = False,
                   on_conflict: str = "error", key: Optional[str] = None,
                   max_errors: Optional[int] = None, max_field: Optional[int] = None,
                   progress: _Progress = None) -> ImportReport:
        """Import a CSV file (with a header line) into ``table``, all or nothing, validating
        every value first. See docs/transfer.md.

        :param source: a path (str or os.PathLike) or a file object opened for reading
            (binary, or text: then encoded as UTF-8)
        :param dry_run: do everything, database checks included, then roll back
        :param on_conflict: "error" (default), "skip" (keep existing rows) or "update"
        :param key: the conflict key column for skip/update (default: primary key for update,
            any unique constraint for skip)
        :param max_errors: how many row errors the report lists (default 100)
        :param max_field: the largest field in bytes (default 16 MiB); a larger one raises
            :class:`TooBigError` naming its line, before it is read whole
        :param progress: ``progress(rows, bytes)``; returning ``False`` stops (and rolls back)
        :returns: an :class:`ImportReport`
        :raises ParseError, InvalidError, ConflictError, NotFoundError ...: the import failed
            and wrote nothing; the exception's ``report`` attribute is the
            :class:`ImportReport` with the rejected rows (None if there is none).
        An exception raised by ``source.read`` or ``progress`` rolls back and propagates.
        """
        _check("table", table, (str,), "a str")
        _check("on_conflict", on_conflict, (str,), "a str")
        _check("key", key, (str,), "a str")
        _check("max_errors", max_errors, (int,), "an int")
        _check("max_field", max_field, (int,), "an int")
        if on_conflict not in ("error", "skip", "update"):
            raise ValueError(f"on_conflict must be 'error', 'skip' or 'update', not {on_conflict!r}")
        for name, value in (("max_errors", max_errors), ("max_field", max_field)):
            if value is not None and value < 0:
                raise ValueError(f"{name} must be 0 (the default) or more, not {value}")
        path, read = None, None
        if isinstance(source, (str, bytes, os.PathLike)):
            path = os.fsdecode(source)
        elif hasattr(source, "read"):
            read = _reader(source)
        else:
            raise TypeError(f"source must be a path or have read(), not {type(source).__name__}")
        opts = _core.ImportOptions()
        _core.import_options_set_dry_run(opts, int(bool(dry_run)))
        _core.import_options_set_conflict(opts, _core.import_conflict_parse(on_conflict))
        _core.import_options_set_key(opts, key)
        _core.import_options_set_max_errors(opts, max_errors or 0)
        _core.import_options_set_max_field(opts, max_field or 0)
        try:
            with self._lock:
                report = _core.import_csv(self._conn, table, path, read, opts, progress)
        except Error as e:
            if isinstance(e.report, dict):
                e.report = ImportReport._from(e.report, table)
            raise
        return ImportReport._from(report, table)
