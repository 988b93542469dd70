# SPDX-License-Identifier: MIT
"""The delivery spool from Python: spooling when PostgreSQL is unreachable, replay."""

import datetime
import gc
import json
import os
import shutil
import tempfile
import time
import unittest

import fastepost
from support import DbTestCase
from test_threads import Ticker


# Processing checks the key itself: the tests present the one they configure.
AUTH = {"api_key": "sekrit-key", "expected_keys": ["sekrit-key"]}


def partner(pid=1, name="Anna", email="a@example.de"):
    return json.dumps({"_model": "res.partner", "_id": pid, "id": pid, "name": name, "email": email,
                       "write_date": "2024-05-03 10:00:00"}, ensure_ascii=False)


class SpoolTest(DbTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.dir = os.path.join(self.tmp, "spool")
        self.conn = fastepost.connect(self.dsn)
        self.addCleanup(self.conn.close)
        self.conn.schema_install()

    def files(self):
        return sorted(os.listdir(self.dir))

    def test_unreachable_database_spools_202_without_the_key(self):
        # A connection whose server vanished: a socket directory that does not exist.
        with self.assertRaises(fastepost.ConnectionError):
            fastepost.connect(f"host={self.tmp}/nosocket dbname=x connect_timeout=2")
        r = fastepost.odoo_process(partner(), None, spool=self.dir, api_key="sekrit-key",
                                   expected_keys=["sekrit-key"], event="write")
        self.assertEqual((r.code, r.outcome, r.http_status, r.ok), (0, "spooled", 202, True))
        self.assertEqual(r.to_dict()["http_status"], 202)
        [e] = fastepost.Spool(self.dir).list()
        self.assertEqual((e.source, e.event, e.content_type, e.bytes),
                         ("odoo", "write", "application/json", len(partner().encode())))
        self.assertEqual(e.spooled_at.tzinfo, datetime.timezone.utc)
        self.assertIsInstance(e.to_dict()["spooled_at_us"], int)
        self.assertLess(abs((datetime.datetime.now(datetime.timezone.utc) - e.spooled_at).total_seconds()), 60)
        self.assertEqual(e.to_dict()["name"], e.name)
        with open(os.path.join(self.dir, e.name), "rb") as f:
            self.assertNotIn(b"sekrit-key", f.read())
        self.assertEqual(os.stat(self.dir).st_mode & 0o777, 0o700)
        # A wrong key is refused before anything is spooled.
        with self.assertRaises(fastepost.AuthError):
            fastepost.odoo_process(partner(), None, spool=self.dir, api_key="bad", expected_keys=["sekrit-key"])
        self.assertEqual(len(fastepost.Spool(self.dir).list()), 1)
        # No connection and no spool: nothing to do with it.
        with self.assertRaises(fastepost.InvalidError):
            fastepost.odoo_process(partner(), **AUTH)

    def test_connection_method_with_spool_and_replay_exactly_once(self):
        s = fastepost.Spool(self.dir)
        ok = self.conn.odoo_process(partner(pid=7), spool=s, **AUTH)
        self.assertEqual((ok.outcome, ok.http_status), ("created", 200))
        self.assertEqual(s.list(), [])
        # The same delivery spooled (as if the connection broke after the commit), and a new one.
        s.put(partner(pid=7))
        r = fastepost.odoo_process(partner(pid=8, email="b@example.de"), spool=s, **AUTH)
        self.assertEqual(r.outcome, "spooled")
        self.assertEqual(len(s.list()), 2)
        rep = s.replay(self.conn)
        self.assertIsInstance(rep, fastepost.SpoolReplayReport)
        self.assertEqual(rep.to_dict(), {"status": "ok", "replayed": 2, "duplicates": 1, "rejected": 0, "remaining": 0})
        self.assertEqual(self.sql("SELECT count(*) FROM customers"), "2")
        self.assertEqual(s.list(), [])
        self.assertEqual(s.replay(self.conn).to_dict(),
                         {"status": "ok", "replayed": 0, "duplicates": 0, "rejected": 0, "remaining": 0})
        self.assertEqual(self.sql("SELECT count(*) FROM customers"), "2")

    def test_replay_limit_and_options(self):
        s = fastepost.Spool(self.dir)
        for i in range(3):
            s.put(partner(pid=i + 1, email=f"c{i}@example.de"), event="create")
        self.assertEqual(s.replay(self.conn, limit=1).to_dict(),
                         {"status": "ok", "replayed": 1, "duplicates": 0, "rejected": 0, "remaining": 2})
        self.assertEqual(s.replay(self.conn).remaining, 0)
        with self.assertRaises(fastepost.InvalidError):
            self.conn.odoo_process(partner(), max_depth=1, **AUTH)
        with self.assertRaises(fastepost.ParseError):
            self.conn.odoo_process(json.dumps({"a": [[[[1]]]]}), max_depth=3, **AUTH)
        self.assertEqual(self.conn.odoo_process(partner(pid=9, email="d@example.de"),
                                                barcode_fields="x_barcode", **AUTH).outcome, "created")
        with self.assertRaises(fastepost.InvalidError):
            self.conn.odoo_process_batch([partner()], barcode_fields="", **AUTH)

    def test_full_spool(self):
        s = fastepost.Spool(self.dir, max_files=1)
        s.put(partner())
        with self.assertRaises(fastepost.FullError) as cm:
            fastepost.odoo_process(partner(pid=2), spool=s, **AUTH)
        self.assertEqual(cm.exception.http_status, 503)
        self.assertIn("full", cm.exception.message)
        with self.assertRaises(fastepost.FullError):
            fastepost.Spool(self.dir, max_bytes=10).put(partner())
        self.assertEqual(len(self.files()), 1)
        with self.assertRaises(fastepost.InvalidError):
            s.put("{}", source="nosuch")
        fastepost.Spool(self.dir, max_files=0)  # 0: the default limit
        with self.assertRaises((OverflowError, TypeError, fastepost.InvalidError)):
            fastepost.Spool(self.dir, max_files=-1)

    def test_damaged_record_set_aside_listed_and_requeued(self):
        s = fastepost.Spool(self.dir)
        self.assertIsNone(s.warning)
        name = s.put(partner(pid=3, name="P51"))
        path = os.path.join(self.dir, name)
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:  # one byte changed, same length
            f.write(data.replace(b"P51", b"Q51"))
        rep = s.replay(self.conn)
        self.assertEqual((rep.replayed, rep.rejected), (0, 1))
        bad = s.list_bad()
        self.assertEqual(len(bad), 1)
        self.assertTrue(bad[0].reason.startswith("altered:"), bad[0].reason)
        with open(path + ".bad", "wb") as f:
            f.write(data)
        self.assertEqual(s.requeue(bad[0].name), bad[0].name)
        self.assertEqual(s.list_bad(), [])
        self.assertEqual(s.replay(self.conn).replayed, 1)
        with self.assertRaises(fastepost.NotFoundError):
            s.requeue(name)

    def test_open_directory_warns_but_accepted_deliveries_succeed(self):
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o777)
        s = fastepost.Spool(self.dir)
        self.assertIn("chmod 700", s.warning)
        self.assertEqual(self.conn.odoo_process(partner(pid=4), spool=s, **AUTH).outcome, "created")
        with self.assertRaises(fastepost.FullError) as cm:
            fastepost.odoo_process(partner(pid=5), spool=s, **AUTH)
        self.assertEqual(cm.exception.http_status, 503)

    def test_gc_order(self):
        s = fastepost.Spool(self.dir)
        r = fastepost.odoo_process(partner(), spool=s, **AUTH)
        entries = s.list()
        del s
        gc.collect()
        self.assertEqual((r.outcome, entries[0].source), ("spooled", "odoo"))
        # A replay holding the only reference to its spool and connection.
        conn = fastepost.connect(self.dsn)
        rep = fastepost.Spool(self.dir).replay(conn)
        del conn
        gc.collect()
        self.assertEqual(rep.replayed, 1)
        self.assertEqual(self.sql("SELECT count(*) FROM customers"), "1")

    def test_utf8_round_trip(self):
        s = fastepost.Spool(self.dir)
        body = partner(name="Jürgen Groß 🚲")
        self.assertEqual(fastepost.odoo_process(body.encode(), spool=s, **AUTH).outcome, "spooled")
        self.assertEqual(s.list()[0].bytes, len(body.encode()))
        s.replay(self.conn)
        self.assertEqual(self.sql("SELECT name FROM customers"), "Jürgen Groß 🚲")
        self.assertIn("spool", repr(s))

    def test_thread_runs_during_replay(self):
        s = fastepost.Spool(self.dir)
        s.put(partner())
        self.hold_lock("customers", 1)
        ticker = Ticker()
        ticker.start()
        time.sleep(0.05)
        start_ticks = ticker.ticks
        started = time.monotonic()
        rep = s.replay(self.conn)
        elapsed = time.monotonic() - started
        ticks = ticker.ticks - start_ticks
        ticker.stop.set()
        ticker.join()
        self.assertEqual(rep.replayed, 1)
        self.assertGreater(elapsed, 0.4)
        self.assertGreater(ticks, 20, f"only {ticks} ticks in {elapsed:.2f}s")


if __name__ == "__main__":
    unittest.main()
