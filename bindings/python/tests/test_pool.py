# SPDX-License-Identifier: MIT
"""fastepost.Pool: bounded, thread-safe, checkout timeout, broken connections replaced, reset
after fork(); and Connection.prune_events (event-log retention)."""

import gc
import os
import threading
import time
import unittest

import fastepost
from support import DbTestCase


class PoolTests(DbTestCase):
    def test_more_threads_than_connections(self):
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
        pool = fastepost.Pool(self.dsn, size=2, timeout=30)
        self.addCleanup(pool.close)
        lock = threading.Lock()
        state = {"in_use": 0, "peak": 0, "done": 0, "conns": set()}
        errors = []

        def work():
            try:
                for _ in range(10):
                    with pool.connection() as conn:
                        with lock:
                            state["in_use"] += 1
                            state["peak"] = max(state["peak"], state["in_use"])
                            state["conns"].add(id(conn))
                        conn.schema_version()  # a round trip, GIL released
                        time.sleep(0.002)
                        with lock:
                            state["in_use"] -= 1
                            state["done"] += 1
            except Exception as e:  # reported below: a thread's exception would be lost
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(state["done"], 80)
        self.assertEqual(state["peak"], 2, "at most size connections are checked out at once")
        self.assertLessEqual(len(state["conns"]), 2)
        self.assertEqual(pool.open_count, 2)
        self.assertEqual(pool.idle_count, 2)
        self.assertEqual(self.backends(2), 2, "two server sessions for eight threads")

    def test_checkout_timeout(self):
        pool = fastepost.Pool(self.dsn, size=1, timeout=0.3)
        self.addCleanup(pool.close)
        with pool.connection():
            started = time.monotonic()
            with self.assertRaises(fastepost.PoolTimeout) as cm:
                with pool.connection():
                    pass
            elapsed = time.monotonic() - started
        e = cm.exception
        self.assertIsInstance(e, fastepost.Error)
        self.assertIsInstance(e, fastepost.TimeoutError)
        self.assertEqual(e.http_status, 503)
        self.assertEqual(e.code, fastepost.core.ETIMEOUT)
        self.assertIn("size 1", str(e))
        self.assertGreaterEqual(elapsed, 0.29)
        self.assertLess(elapsed, 5)
        # A waiting thread gets the connection as soon as it is given back.
        got = []
        with pool.connection() as held:
            t = threading.Thread(target=lambda: got.append(pool.connection(timeout=10).__enter__()))
            t.start()
            time.sleep(0.1)
            self.assertEqual(got, [])
        t.join(10)
        self.assertIs(got[0], held)

    def test_broken_connection_replaced(self):
        pool = fastepost.Pool(self.dsn, size=1, timeout=5, ping_after=0)
        self.addCleanup(pool.close)
        with pool.connection() as first:
            first.ping()
        self.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                 f"'{self.dbname}' AND pid <> pg_backend_pid()")
        self.backends(0)
        # Idle and dead: the ping at checkout finds out, a new connection takes its place.
        with pool.connection() as second:
            self.assertIsNot(second, first)
            second.ping()
        self.assertEqual(pool.open_count, 1)
        # Broken during use: the ConnectionError goes to the caller, the connection is dropped.
        with self.assertRaises(fastepost.ConnectionError):
            with pool.connection() as conn:
                self.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                         f"'{self.dbname}' AND pid <> pg_backend_pid()")
                self.backends(0)
                conn.schema_version()
        self.assertEqual(pool.open_count, 0)
        self.assertEqual(pool.idle_count, 0)
        with pool.connection() as third:
            self.assertIsNot(third, second)
            third.ping()

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork()")
    def test_reset_after_fork(self):
        pool = fastepost.Pool(self.dsn, size=2, timeout=5, ping_after=3600)
        self.addCleanup(pool.close)
        with pool.connection() as parent_conn:
            parent_conn.ping()
        pid = os.fork()
        if pid == 0:  # the child: never return into unittest
            ok = False
            try:
                ok = pool.open_count == 0 and pool.idle_count == 0
                with pool.connection() as c:
                    c.ping()
                    ok = ok and c is not parent_conn
                del c
                pool.close()
                del parent_conn
                gc.collect()  # the inherited connection object is freed here: it must not close
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, "the child's checks failed")
        # The parent's session survived the child (no Terminate sent on its socket).
        with pool.connection() as conn:
            self.assertIs(conn, parent_conn)
            conn.ping()

    def test_arguments_and_close(self):
        with self.assertRaises(fastepost.InvalidError):
            fastepost.Pool(self.dsn, size=0)
        with self.assertRaises(fastepost.InvalidError):
            fastepost.Pool(self.dsn, timeout=-1)
        pool = fastepost.Pool(self.dsn, size=1)
        with pool.connection() as conn:
            conn.ping()
        self.assertEqual(self.backends(1), 1)
        pool.close()
        self.assertEqual(self.backends(0), 0)
        with self.assertRaises(fastepost.InvalidError):
            with pool.connection():
                pass
        # A bad DSN: the error goes to the caller and the slot is given back.
        bad = fastepost.Pool(self.dsn + " port=1", size=1, timeout=0.5)
        for _ in range(2):
            with self.assertRaises(fastepost.ConnectionError):
                with bad.connection():
                    pass
        self.assertEqual(bad.open_count, 0)


class PruneTests(DbTestCase):
    def test_prune_events(self):
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
            self.sql("INSERT INTO integration_events (source, event_type, status, created_at) "
                     "SELECT 'odoo', 'res.partner', s, (now() AT TIME ZONE 'UTC') - interval '30 days' "
                     "FROM unnest(array['success', 'success', 'success', 'error']) s")
            self.sql("INSERT INTO integration_events (source, event_type, status, created_at) "
                     "VALUES ('odoo', 'res.partner', 'success', now() AT TIME ZONE 'UTC')")
            with self.assertRaises(fastepost.InvalidError) as cm:
                conn.prune_events(older_than_days=6)
            self.assertIn("7 days", str(cm.exception))
            self.assertEqual(cm.exception.http_status, 400)
            self.assertEqual(self.sql("SELECT count(*) FROM integration_events"), "5")
            with self.assertRaises(fastepost.InvalidError):
                conn.prune_events(older_than_days=30, status="error")
            r = conn.prune_events(older_than_days=7, batch_size=2)
            self.assertIsInstance(r, fastepost.PruneReport)
            self.assertEqual((r.deleted, r.batches), (3, 2))
            self.assertIsInstance(r.cutoff_us, int)
            self.assertGreater(r.cutoff_us, 1700000000 * 10**6)
            r = conn.prune_events(older_than_days=7, status="all")
            self.assertEqual(r.deleted, 1)
            self.assertEqual(self.sql("SELECT count(*) FROM integration_events"), "1")
            self.assertEqual(self.sql("SELECT sum(n) FROM fastepost_event_counts"), "1")


if __name__ == "__main__":
    unittest.main()
