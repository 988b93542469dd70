# SPDX-License-Identifier: MIT
"""import_csv: sources (path, binary and text files), options, the report, failures carrying
the report, callbacks (progress, exceptions in read/progress), UTF-8 round trip, GC."""

import gc
import io
import json
import os
import subprocess
import tempfile
import unittest

import fastepost
from support import CHILD_ENV, DbTestCase

GOOD = "name,email\nZoë Ærø,z@x.de\n山田 太郎,y@x.de\n\"Max, Comma\",m@x.de\n"
BAD = "name,email,active\nA,a@x.de,yes\nB,b@x.de,perhaps\nC,c@x.de,maybe\n"


class ImportCase(DbTestCase):
    def setUp(self):
        super().setUp()
        self.conn = fastepost.connect(self.dsn)
        self.conn.schema_install()
        self.addCleanup(self.conn.close)

    def tearDown(self):
        gc.collect()
        super().tearDown()

    def count(self):
        return int(self.sql("SELECT count(*) FROM customers"))


class Import(ImportCase):
    def test_path_and_report(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "c.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write(GOOD)
            report = self.conn.import_csv("customers", path)
        self.assertIsInstance(report, fastepost.ImportReport)
        self.assertTrue(report.ok)
        self.assertEqual((report.rows_read, report.rows_inserted, report.rows_written), (3, 3, 3))
        self.assertEqual(report.bytes_read, len(GOOD.encode()))
        self.assertFalse(report.dry_run)
        self.assertEqual(report.errors, [])
        d = report.to_dict()
        self.assertEqual(d["rows_inserted"], 3)
        self.assertEqual(d["errors"], [])
        self.assertEqual(self.sql("SELECT name FROM customers ORDER BY id LIMIT 1"), "Zoë Ærø")

    def test_max_field(self):
        big = "name,address\nA," + "x" * 5000 + "\n"
        with self.assertRaises(fastepost.TooBigError) as cm:
            self.conn.import_csv("customers", io.StringIO(big), max_field=1000)
        self.assertEqual(cm.exception.report.errors[0].line, 2)
        self.assertEqual(self.count(), 0)
        self.assertEqual(self.conn.import_csv("customers", io.StringIO(big), max_field=5000).rows_written, 1)

    def test_file_objects_binary_and_text(self):
        r1 = self.conn.import_csv("customers", io.BytesIO(GOOD.encode()), dry_run=True)
        self.assertTrue(r1.dry_run)
        self.assertEqual((r1.rows_inserted, r1.rows_written), (3, 0))
        self.assertEqual(self.count(), 0)
        r2 = self.conn.import_csv("customers", io.StringIO(GOOD * 1))
        self.assertEqual(r2.rows_written, 3)
        self.assertEqual(self.count(), 3)

    def test_utf8_round_trip_through_export(self):
        self.conn.import_csv("customers", io.StringIO(GOOD))
        out = self.conn.export("customers", columns=["name", "email"], order="id")
        self.conn.import_csv("customers", io.StringIO(out), on_conflict="skip")
        self.assertEqual(self.count(), 3)
        self.sql("DELETE FROM customers")
        self.conn.import_csv("customers", io.StringIO(out))
        self.assertEqual(self.conn.export("customers", columns=["name", "email"], order="id"), out)
        self.assertEqual(out, GOOD)

    def test_conflict_modes(self):
        self.conn.import_csv("customers", io.StringIO(GOOD))
        changed = GOOD.replace("Zoë Ærø", "Zoë Neu")
        with self.assertRaises(fastepost.ConflictError) as ctx:
            self.conn.import_csv("customers", io.StringIO(changed))
        self.assertIsInstance(ctx.exception.report, fastepost.ImportReport)
        self.assertGreater(ctx.exception.report.error_total, 0)
        skipped = self.conn.import_csv("customers", io.StringIO(changed), on_conflict="skip")
        self.assertEqual(skipped.rows_skipped, 3)
        with_ids = "id,name\n" + "".join(
            f"{i},Neu {i}\n" for i in self.sql("SELECT id FROM customers ORDER BY id").split())
        updated = self.conn.import_csv("customers", io.StringIO(with_ids), on_conflict="update",
                                       key="id")
        self.assertEqual(updated.rows_updated, 3)
        with self.assertRaises(ValueError):
            self.conn.import_csv("customers", io.StringIO(GOOD), on_conflict="replace")

    def test_failure_raises_with_row_errors(self):
        with self.assertRaises(fastepost.InvalidError) as ctx:
            self.conn.import_csv("customers", io.StringIO(BAD), max_errors=1)
        report = ctx.exception.report
        self.assertEqual(report.error_total, 2)
        self.assertEqual(len(report.errors), 1)
        e = report.errors[0]
        self.assertIsInstance(e, fastepost.ImportRowError)
        self.assertEqual((e.line, e.column, e.value), (3, "active", "perhaps"))
        self.assertIn("boolean", e.reason)
        self.assertEqual(report.to_dict()["errors"][0]["line"], 3)
        self.assertFalse(report.ok)
        self.assertEqual(report.rows_written, 0)
        self.assertEqual(self.count(), 0)

    def test_report_has_the_keys_and_types_of_the_cli_json(self):
        # One shape for every result (issue 14, item 7): to_dict() == `fastepost import --json`
        # without the CLI's "status" (and, on failure, the error object's fields).
        with tempfile.TemporaryDirectory() as d:
            for name, text in (("good.csv", GOOD), ("bad.csv", BAD)):
                path = os.path.join(d, name)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                try:
                    report = self.conn.import_csv("customers", path, dry_run=True)
                except fastepost.Error as e:
                    report = e.report
                out = subprocess.run([os.environ["FASTEPOST_CLI"], "import", "--json", "--db",
                                      self.dsn, "--table", "customers", "--dry-run", path],
                                     capture_output=True, text=True, env=CHILD_ENV)
                cli = json.loads(out.stdout)
                for extra in ("status", "code", "http_status", "error"):
                    cli.pop(extra, None)
                mine = report.to_dict()
                self.assertEqual(sorted(mine), sorted(cli), name)
                for key in mine:
                    self.assertIs(type(mine[key]), type(cli[key]), f"{name}: {key}")
                self.assertEqual(mine, cli, name)

    def test_wrong_argument_types_raise_type_error(self):
        for kwargs in ({"max_errors": "3"}, {"max_field": 1.5}, {"key": 7}, {"on_conflict": 1},
                       {"max_errors": True}):
            with self.subTest(kwargs=kwargs), self.assertRaises(TypeError):
                self.conn.import_csv("customers", io.StringIO(GOOD), **kwargs)
        with self.assertRaises(TypeError):
            self.conn.import_csv(42, io.StringIO(GOOD))
        with self.assertRaises(TypeError):
            self.conn.import_csv("customers", 42)
        with self.assertRaises(ValueError):
            self.conn.import_csv("customers", io.StringIO(GOOD), max_errors=-1)
        self.assertEqual(self.count(), 0)

    def test_other_errors(self):
        with self.assertRaises(fastepost.ParseError) as ctx:
            self.conn.import_csv("customers", io.BytesIO(b"name\n\"open quote\n"))
        self.assertIsNotNone(ctx.exception.report)
        with self.assertRaises(fastepost.ParseError):
            self.conn.import_csv("customers", io.BytesIO(b"name\n\xff\xfe\n"))
        with self.assertRaises(fastepost.NotFoundError):
            self.conn.import_csv("no_such_table", io.StringIO(GOOD))
        with self.assertRaises(fastepost.NotFoundError) as ctx:
            self.conn.import_csv("customers", "/nonexistent/file.csv")
        self.assertIn("/nonexistent/file.csv", ctx.exception.message)
        with self.assertRaises(fastepost.InvalidError) as ctx:
            self.conn.import_csv("customers", io.StringIO("nope\n1\n"))
        self.assertIn("unknown column", ctx.exception.message)
        self.assertEqual(ctx.exception.report.errors[0].value, "nope")
        self.assertEqual(self.count(), 0)


class Callbacks(ImportCase):
    def test_progress(self):
        calls = []
        self.conn.import_csv("customers", io.StringIO(GOOD), progress=lambda r, b: calls.append((r, b)))
        self.assertTrue(calls)
        self.assertEqual(calls[-1], (3, len(GOOD.encode())))

    def test_progress_false_rolls_back(self):
        with self.assertRaises(fastepost.CanceledError):
            self.conn.import_csv("customers", io.StringIO(GOOD), progress=lambda r, b: False)
        self.assertEqual(self.count(), 0)

    def test_exception_in_read_propagates_and_rolls_back(self):
        class Source:
            def __init__(self):
                self.calls = 0

            def read(self, size):
                self.calls += 1
                if self.calls == 1:
                    return GOOD.encode()
                raise OSError("network gone")

        src = Source()
        with self.assertRaises(OSError) as ctx:
            self.conn.import_csv("customers", src)
        self.assertEqual(str(ctx.exception), "network gone")
        self.assertEqual(src.calls, 2)
        self.assertEqual(self.count(), 0)
        self.conn.ping()

    def test_read_returning_too_much_or_str(self):
        class TooMuch:
            def read(self, size):
                return b"x" * (size + 1)

        with self.assertRaises(ValueError):
            self.conn.import_csv("customers", TooMuch())

    def test_exception_in_progress(self):
        with self.assertRaises(RuntimeError):
            self.conn.import_csv("customers", io.StringIO(GOOD),
                                 progress=lambda r, b: (_ for _ in ()).throw(RuntimeError("x")))
        self.assertEqual(self.count(), 0)


class Gc(ImportCase):
    def test_report_and_exception_outlive_connection(self):
        conn = fastepost.connect(self.dsn)
        report = conn.import_csv("customers", io.StringIO(GOOD), dry_run=True)
        try:
            conn.import_csv("customers", io.StringIO(BAD))
        except fastepost.InvalidError as e:
            err = e
        del conn
        gc.collect()
        self.assertEqual(report.rows_read, 3)
        self.assertEqual(err.report.errors[0].value, "perhaps")
        del report
        gc.collect()
        self.assertEqual(err.report.error_total, 2)


if __name__ == "__main__":
    unittest.main()
