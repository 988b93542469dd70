# SPDX-License-Identifier: MIT
"""Backups, database figures and the report from Python."""

import datetime
import gc
import os
import signal
import tempfile
import threading
import time
import unittest

import fastepost
from support import DbTestCase, create_database, drop_database, dsn_for
from test_threads import Ticker

# pg_dump and psql, started by the library, inherit this process's environment: in a
# FASTEPOST_SANITIZE build that would preload the ASan runtime into them, and they hang.
for _name in ("LD_PRELOAD", "ASAN_OPTIONS"):
    os.environ.pop(_name, None)


class BackupInfoTimes(unittest.TestCase):
    """``created`` from ``created_at_us``, also when the library could not tell the start time
    (None: it raised TypeError before the typing pass)."""

    def info(self, created_at_us):
        return fastepost.BackupInfo(name="b.sql", size_bytes=1, created_at=None,
                                    created_at_us=created_at_us, format="plain", kind="full",
                                    table=None)

    def test_created(self):
        self.assertEqual(self.info(86_400_000_001).created,
                         datetime.datetime(1970, 1, 2, 0, 0, 0, 1, tzinfo=datetime.timezone.utc))
        self.assertIsNone(self.info(None).created)


class Backup(DbTestCase):
    def setUp(self):
        super().setUp()
        self.conn = fastepost.connect(self.dsn)
        self.addCleanup(self.conn.close)
        self.conn.schema_install()
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def hanging_pg_dump(self):
        """A pg_dump that writes a little and then hangs: a real program the library starts."""
        path = os.path.join(self.tmp.name, "pg_dump")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n"
                    "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 99.0'; exit 0; fi\n"
                    "printf -- '-- partial dump\\n'\n"
                    "exec sleep 60\n")
        os.chmod(path, 0o755)
        return path

    def test_ctrl_c_interrupts_a_running_backup(self):
        """Ctrl-C (SIGINT) stops a running backup: the binding sets the handle's interrupt flag
        from the signal, the library stops pg_dump and removes the partial file, and
        KeyboardInterrupt is raised, not a CanceledError."""
        old = os.environ.get("FASTEPOST_PG_DUMP")
        os.environ["FASTEPOST_PG_DUMP"] = self.hanging_pg_dump()  # read once, by BackupDir()
        try:
            d = fastepost.BackupDir(os.path.join(self.tmp.name, "backups"))
        finally:
            if old is None:
                del os.environ["FASTEPOST_PG_DUMP"]
            else:
                os.environ["FASTEPOST_PG_DUMP"] = old
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        started = time.monotonic()
        timer.start()
        try:
            with self.assertRaises(KeyboardInterrupt):
                d.create(self.conn)
        finally:
            timer.cancel()
        took = time.monotonic() - started
        self.assertLess(took, 5, "stopped at once, not after pg_dump's 60 s")
        self.assertEqual([], os.listdir(d.dir), "no partial file left")
        self.assertEqual([], d.list())
        self.conn.ping()

    def test_round_trip(self):
        self.conn.odoo_process('{"_model": "res.partner", "_id": 1, "name": "Jürgen", "email": "j@x.de"}',
                               host_authenticated=True)
        d = fastepost.BackupDir(self.tmp.name)
        calls = []
        name = d.create(self.conn, progress=lambda rows, size: calls.append(size))
        self.assertTrue(name.endswith(".sql"))
        self.assertTrue(calls)
        custom = self.conn.backup(d, format="custom")
        infos = d.list()
        self.assertEqual({i.name for i in infos}, {name, custom})
        self.assertEqual(infos[0].created.tzinfo, datetime.timezone.utc)
        self.assertIn(infos[0].format, ("plain", "custom"))
        # The keys and types of the CLI's --json (docs/backup.md).
        info = infos[0].to_dict()
        self.assertEqual(list(info), ["name", "size_bytes", "created_at", "created_at_us", "format",
                                      "kind", "table"])
        self.assertIsInstance(info["size_bytes"], int)
        self.assertIsInstance(info["created_at_us"], int)
        self.assertEqual(info["created_at_us"] % 1000000, 0, "from the name: whole seconds")
        self.assertLess(abs(info["created_at_us"] / 1e6 - time.time()), 600)
        self.assertEqual(infos[0].created.timestamp(), info["created_at_us"] / 1e6)
        self.assertEqual(info["created_at"],
                         infos[0].created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        self.assertIsNone(info["table"])
        self.assertEqual(info["kind"], "full")
        with d.open(name) as f:
            self.assertIn(b"CREATE TABLE", f.read())
        self.assertTrue(d.path(name).endswith(name))
        self.assertTrue(d.verify(name))
        self.assertTrue(d.verify(custom, self.conn, deep=True))
        with self.assertRaises(fastepost.InvalidError):
            d.path("../etc/passwd")
        target = create_database()
        self.addCleanup(drop_database, target)
        d.restore(custom, self.conn, dsn_for(target))
        with fastepost.connect(dsn_for(target)) as t:
            self.assertEqual(t.db_stats().database, target)
        from support import psql
        self.assertEqual(psql("SELECT name FROM customers", target), "Jürgen")
        stats = self.conn.db_stats(d, exact=True)
        self.assertEqual(stats.backup_count, 2)
        self.assertIn("customers", [t.name for t in stats.tables])
        self.assertEqual(stats.to_dict()["database"], self.dbname)
        self.assertEqual([r.name for r in d.prune(keep=1)], [infos[1].name])
        self.assertEqual(len(d.list(limit=None)), 1)
        html = self.conn.report_html(backup_dir=d, title="Bericht <ü>")
        self.assertIn("Bericht &lt;ü&gt;", html)

    def test_kinds_default_dir_and_trust(self):
        d = fastepost.BackupDir(self.tmp.name)
        full = d.create(self.conn)
        table = d.create(self.conn, table="customers")
        self.assertIn("_table-customers.sql", table)
        kinds = {i.name: (i.kind, i.table) for i in d.list()}
        self.assertEqual(kinds, {full: ("full", None), table: ("table", "customers")})
        # The newest backup of the database is the full one, and prune counts kinds apart.
        self.assertEqual(self.conn.db_stats(d).newest_backup.name, full)
        self.assertEqual(d.prune(keep=1), [])
        with self.assertRaises(fastepost.InvalidError):
            d.prune(keep=0)
        with self.assertRaises(ValueError):
            d.prune(keep=1, all=True)
        # No path: the per-user state directory, never /tmp or the working directory.
        saved = {k: os.environ.get(k) for k in ("FASTEPOST_BACKUP_DIR", "XDG_STATE_HOME")}
        try:
            os.environ.pop("FASTEPOST_BACKUP_DIR", None)
            os.environ["XDG_STATE_HOME"] = os.path.join(self.tmp.name, "state")
            self.assertEqual(fastepost.BackupDir().dir,
                             os.path.join(self.tmp.name, "state", "fastepost", "backups"))
            # A relative path is taken from the working directory, by the binding.
            cwd = os.getcwd()
            os.chdir(self.tmp.name)
            try:
                self.assertEqual(fastepost.BackupDir("rel").dir, os.path.join(os.getcwd(), "rel"))
            finally:
                os.chdir(cwd)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        # A directory others may write to is refused, with the fix in the message.
        os.chmod(self.tmp.name, 0o777)
        try:
            with self.assertRaises(fastepost.InvalidError) as cm:
                d.list()
            self.assertIn("chmod go-w", str(cm.exception))
        finally:
            os.chmod(self.tmp.name, 0o700)

    def test_tools_from_the_environment_and_prune_all(self):
        """The binding passes FASTEPOST_PG_DUMP and PATH on; set_tool/set_search_path override
        them (the library itself reads neither)."""
        fake = self.hanging_pg_dump()
        os.environ["FASTEPOST_PG_DUMP"] = "/nonexistent/pg_dump"
        try:
            d = fastepost.BackupDir(os.path.join(self.tmp.name, "b"))
        finally:
            del os.environ["FASTEPOST_PG_DUMP"]
        with self.assertRaises(fastepost.NotFoundError) as cm:
            d.create(self.conn)
        self.assertIn("/nonexistent/pg_dump", str(cm.exception))
        d.set_tool("pg_dump", None)
        d.set_search_path(os.path.dirname(fake) + ":/nonexistent")
        with self.assertRaises(ValueError):
            d.set_tool("pg_dumpall", fake)
        d.set_search_path(None)  # the default search finds the real one
        names = [d.create(self.conn), d.create(self.conn, format="custom")]
        removed = d.prune(all=True)
        self.assertEqual(sorted(names), sorted(r.name for r in removed))
        self.assertEqual([], d.list())

    def test_gc_order(self):
        conn = fastepost.connect(self.dsn)
        d = fastepost.BackupDir(self.tmp.name)
        name = conn.backup(d)
        f = d.open(name)
        stats = conn.db_stats(d)
        del conn, d
        gc.collect()
        self.assertTrue(f.read(10))
        f.close()
        self.assertEqual(stats.newest_backup.name, name)

    def test_progress_exception_propagates(self):
        d = fastepost.BackupDir(self.tmp.name)

        def boom(rows, size):
            raise KeyError("stop")
        with self.assertRaises(KeyError):
            d.create(self.conn, progress=boom)
        self.assertEqual(d.list(), [])

    def test_thread_runs_during_pg_dump(self):
        self.sql("INSERT INTO customers (name, email) SELECT 'n' || g, 'e' || g || '@x.de' "
                 "FROM generate_series(1, 50000) g")
        d = fastepost.BackupDir(self.tmp.name)
        ticker = Ticker()
        ticker.start()
        time.sleep(0.05)
        start_ticks = ticker.ticks
        started = time.monotonic()
        d.create(self.conn)
        elapsed = time.monotonic() - started
        ticks = ticker.ticks - start_ticks
        ticker.stop.set()
        ticker.join()
        # ~5 ms per tick: expect at least a third of the possible ticks.
        self.assertGreater(ticks, elapsed / 0.005 / 3, f"only {ticks} ticks in {elapsed:.2f}s")


if __name__ == "__main__":
    unittest.main()
