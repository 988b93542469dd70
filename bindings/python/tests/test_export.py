# SPDX-License-Identifier: MIT
"""Export: formats, options, the three sinks (str, path, file object), callbacks (progress,
exceptions in write/progress), a long export while another thread runs, UTF-8, GC."""

import csv
import gc
import io
import json
import os
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import fastepost
from support import CHILD_ENV, DbTestCase

NAMES = ["Zoë Ærø", "山田 太郎", "Anne \"Q\" O'Neil", "Max, Comma", "Ünal\nNewline"]


class ExportCase(DbTestCase):
    def setUp(self):
        super().setUp()
        self.conn = fastepost.connect(self.dsn)
        self.conn.schema_install()
        values = ", ".join(
            f"($fp${n}$fp$, 'c{i}@x.de')" for i, n in enumerate(NAMES))
        self.sql(f"INSERT INTO customers (name, email) VALUES {values}, ('Other', 'o@y.com')")
        self.addCleanup(self.conn.close)

    def tearDown(self):
        gc.collect()
        super().tearDown()


class Export(ExportCase):
    def test_csv_as_str_with_columns_filter_order_limit(self):
        out = self.conn.export("customers", columns=["name", "email"],
                               where=[("email", "ilike", "%@X.DE")], order="-id", limit=3)
        self.assertIsInstance(out, str)
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["name", "email"])
        self.assertEqual([r[0] for r in rows[1:]], list(reversed(NAMES))[:3])

    def test_filter_forms(self):
        out = self.conn.export("customers", format="ndjson",
                               where=["email ilike %@y.com", ("crm_id", "is_null"),
                                      ("active", "=", True), ("id", ">", 0)],
                               order=[("id", "asc")])
        self.assertEqual([json.loads(l)["name"] for l in out.splitlines()], ["Other"])

    def test_json_round_trip_utf8(self):
        out = self.conn.export("customers", format="json", columns=["name"], order="id")
        self.assertEqual([r["name"] for r in json.loads(out)], NAMES + ["Other"])

    def test_result_has_the_keys_and_types_of_the_cli_json(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "c.ndjson")
            result = self.conn.export("customers", file=path, format="ndjson", limit=4)
            self.assertIsInstance(result, fastepost.ExportResult)
            self.assertEqual((result.format, result.output, result.rows), ("ndjson", path, 4))
            self.assertEqual(result.bytes, os.path.getsize(path))
            self.assertIs(result.ok, True)  # (raised AttributeError before the typing pass)
            out = subprocess.run([os.environ["FASTEPOST_CLI"], "export", "--json", "--db", self.dsn,
                                  "--table", "customers", "--format", "ndjson", "--limit", "4",
                                  "--output", path], capture_output=True, text=True, env=CHILD_ENV)
            cli = json.loads(out.stdout)
            self.assertEqual(cli.pop("status"), "ok")
            self.assertEqual(result.to_dict(), cli)
            for key, value in result.to_dict().items():
                self.assertIs(type(value), type(cli[key]), key)

    def test_wrong_argument_types_raise_type_error(self):
        for kwargs in ({"limit": "3"}, {"limit": 2.5}, {"format": 1}, {"file": 42}):
            with self.subTest(kwargs=kwargs), self.assertRaises(TypeError):
                self.conn.export("customers", **kwargs)
        with self.assertRaises(TypeError):
            self.conn.export(42)
        with self.assertRaises(ValueError):
            self.conn.export("customers", limit=0)

    def test_path_binary_and_text_files(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "c.csv")
            self.conn.export("customers", file=path, order="id")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            with open(path, encoding="utf-8", newline="") as f:
                expected = f.read()
            binary = io.BytesIO()
            self.conn.export("customers", file=binary, order="id")
            self.assertEqual(binary.getvalue().decode("utf-8"), expected)
            text = io.StringIO()
            self.conn.export("customers", file=text, order="id")
            self.assertEqual(text.getvalue(), expected)
            self.assertEqual(self.conn.export("customers", order="id"), expected)

    def test_split_utf8_characters_reach_text_files_whole(self):
        # A long name of 3-byte characters: the 64 kB pieces end inside characters.
        self.sql("INSERT INTO customers (name) SELECT repeat('日本', 30000)")
        text = io.StringIO()
        self.conn.export("customers", format="ndjson", file=text, columns=["name"],
                         where=[("name", "like", "日本%")])
        self.assertEqual(json.loads(text.getvalue())["name"], "日本" * 30000)

    def test_export_all(self):
        with tempfile.TemporaryDirectory() as d:
            n = self.conn.export_all(os.path.join(d, "out"), format="ndjson")
            files = sorted(os.listdir(os.path.join(d, "out")))
            self.assertEqual(n, len(files))
            self.assertIn("customers.ndjson", files)

    def test_errors(self):
        with self.assertRaises(fastepost.NotFoundError):
            self.conn.export("no_such_table")
        with self.assertRaises(fastepost.NotFoundError):
            self.conn.export("customers", columns=["nope"])
        with self.assertRaises(fastepost.InvalidError) as ctx:
            self.conn.export("customers", where=[("id", "=", "1; DROP TABLE customers")])
        self.assertIn("integer", ctx.exception.message)
        with self.assertRaises(fastepost.InvalidError):
            self.conn.export("customers", format="xml")
        with self.assertRaises(fastepost.InvalidError):
            self.conn.export("customers", where=[("id", "~~", "1")])
        with self.assertRaises(fastepost.InvalidError):
            self.conn.export(None, format="csv")  # csv needs a table
        self.assertEqual(self.sql("SELECT count(*) FROM customers"), "6")


class Callbacks(ExportCase):
    def test_progress_is_called(self):
        calls = []
        self.conn.export("customers", progress=lambda rows, nbytes: calls.append((rows, nbytes)))
        self.assertTrue(calls)
        self.assertEqual(calls[-1][0], 6)
        self.assertGreater(calls[-1][1], 0)

    def test_progress_false_cancels(self):
        with self.assertRaises(fastepost.CanceledError):
            self.conn.export("customers", progress=lambda rows, nbytes: False)
        self.conn.ping()

    def test_exception_in_write_propagates(self):
        class Boom(Exception):
            pass

        class Sink:
            def __init__(self):
                self.calls = 0

            def write(self, chunk):
                self.calls += 1
                raise Boom("disk full")

        sink = Sink()
        with self.assertRaises(Boom) as ctx:
            self.conn.export("customers", file=sink)
        self.assertEqual(str(ctx.exception), "disk full")
        self.assertEqual(sink.calls, 1, "no callback after the first exception")
        # The connection is usable afterwards.
        self.assertIn("Other", self.conn.export("customers"))

    def test_exception_in_progress_propagates(self):
        def progress(rows, nbytes):
            raise KeyError("stop here")

        with self.assertRaises(KeyError):
            self.conn.export("customers", progress=progress)
        self.conn.ping()

    def test_failed_path_export_leaves_no_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "c.csv")
            with self.assertRaises(ZeroDivisionError):
                self.conn.export("customers", file=path, progress=lambda r, b: 1 / 0)
            self.assertFalse(os.path.exists(path))


class LongExport(ExportCase):
    def test_ticker_runs_during_a_long_export(self):
        self.sql("INSERT INTO customers (name, email) SELECT 'n' || g, 'e' || g || '@z.de' "
                 "FROM generate_series(1, 200000) g")
        ticks = 0
        stop = threading.Event()

        def ticker():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                time.sleep(0.002)

        t = threading.Thread(target=ticker)
        t.start()
        written = 0

        def write(chunk):
            nonlocal written
            written += len(chunk)

        class Sink:
            pass

        sink = Sink()
        sink.write = write
        started = time.monotonic()
        # A sort on a computed key keeps the server busy before the first row arrives.
        self.conn.export("customers", format="ndjson", file=sink, order=["-email", "name"])
        elapsed = time.monotonic() - started
        stop.set()
        t.join()
        self.assertGreater(written, 200000 * 20)
        self.assertGreater(ticks, max(5, elapsed / 0.002 / 10),
                           f"only {ticks} ticks in {elapsed:.2f}s")


class Gc(ExportCase):
    def test_objects_freed_in_any_order(self):
        conn = fastepost.connect(self.dsn)
        sink = io.BytesIO()
        conn.export("customers", file=sink)
        out = conn.export("customers", format="json")
        del conn
        gc.collect()
        self.assertIn("Other", json.dumps(json.loads(out)))
        del sink, out
        gc.collect()

    def test_callback_objects_collected_during_export(self):
        # The write callback allocates heavily and runs the collector: the library's
        # references (options, callbacks) must stay valid.
        def write(chunk):
            [object() for _ in range(1000)]
            gc.collect()

        class Sink:
            pass

        sink = Sink()
        sink.write = write
        self.conn.export("customers", file=sink, progress=lambda r, b: gc.collect())
        del sink
        gc.collect()


if __name__ == "__main__":
    unittest.main()
