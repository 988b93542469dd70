# SPDX-License-Identifier: MIT
"""The GIL is released while a call waits on the database: other threads keep running."""

import socket
import threading
import time
import unittest

import fastepost
from support import DbTestCase



class Ticker(threading.Thread):
    """Counts while it runs; it can only count while the main thread does not hold the GIL."""

    def __init__(self):
        super().__init__(daemon=True)
        self.ticks = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.ticks += 1
            time.sleep(0.005)


class Threads(DbTestCase):
    def test_blocked_call_lets_other_threads_run(self):
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
            self.hold_lock("fastepost_schema_migrations", 1.0)
            ticker = Ticker()
            ticker.start()
            time.sleep(0.05)
            start_ticks = ticker.ticks
            started = time.monotonic()
            version = conn.schema_version()  # waits for the lock
            elapsed = time.monotonic() - started
            ticks = ticker.ticks - start_ticks
            ticker.stop.set()
            ticker.join()
        self.assertTrue(version.up_to_date)
        self.assertGreater(elapsed, 0.4, "the call did not wait for the lock")
        # ~5 ms per tick: with the GIL held during the wait there would be none.
        self.assertGreater(ticks, 20, f"only {ticks} ticks in {elapsed:.2f}s")

    def test_connect_to_a_silent_server_lets_other_threads_run(self):
        # A TCP server that accepts and never answers: connecting waits for connect_timeout.
        server = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(server.close)
        port = server.getsockname()[1]
        ticker = Ticker()
        ticker.start()
        time.sleep(0.05)
        start_ticks = ticker.ticks
        started = time.monotonic()
        with self.assertRaises(fastepost.ConnectionError) as ctx:
            fastepost.connect(f"host=127.0.0.1 port={port} dbname=x connect_timeout=2")
        elapsed = time.monotonic() - started
        ticks = ticker.ticks - start_ticks
        ticker.stop.set()
        ticker.join()
        self.assertIn("timeout", ctx.exception.message)
        self.assertGreater(elapsed, 1.0)
        self.assertGreater(ticks, 40, f"only {ticks} ticks in {elapsed:.2f}s")

    def test_statement_timeout_while_blocked(self):
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
            self.hold_lock("fastepost_schema_migrations", 1.0)
            conn.statement_timeout = 0.1
            with self.assertRaises(fastepost.TimeoutError) as ctx:
                conn.schema_version()
            self.assertEqual(ctx.exception.sqlstate, "57014")  # query_canceled
            self.assertEqual(ctx.exception.http_status, 503)
            conn.statement_timeout = 0
            conn.ping()

    def test_held_lock_is_busy_within_the_lock_timeout(self):
        with fastepost.connect(self.dsn, lock_timeout=0.3) as conn:
            self.assertEqual(conn.lock_timeout, 0.3)
            conn.schema_install()
            self.hold_lock("fastepost_schema_migrations", 3.0)
            started = time.monotonic()
            with self.assertRaises(fastepost.BusyError) as ctx:
                conn.schema_version()
            self.assertLess(time.monotonic() - started, 2.0)
            self.assertEqual(ctx.exception.sqlstate, "55P03")  # lock_not_available

    def test_cancel_from_another_thread(self):
        self.sql("CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 1000) g")
        with fastepost.connect(self.dsn) as conn:
            conn.cancel()  # nothing runs: nothing happens
            self.hold_lock("big", 6.0)
            timer = threading.Timer(0.5, conn.cancel)
            timer.start()
            started = time.monotonic()
            with self.assertRaises(fastepost.CanceledError):
                conn.export("big")  # waits for the lock until cancelled
            elapsed = time.monotonic() - started
            timer.join()
            self.assertLess(elapsed, 3.0, "cancel did not stop the call")
            conn.ping()  # still usable

    def test_connections_in_parallel_threads(self):
        errors = []

        def work():
            try:
                for _ in range(5):
                    with fastepost.connect(self.dsn) as conn:
                        conn.schema_version()
                        conn.ping()
                try:
                    fastepost.connect("=broken")
                except fastepost.InvalidError as e:
                    # The thread-local error is read on the thread that made the call.
                    assert "invalid connection string" in e.message, e.message
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_one_connection_shared_by_threads(self):
        conn = fastepost.connect(self.dsn)
        conn.schema_install()
        results = []

        def work():
            for _ in range(20):
                results.append(conn.schema_version().current)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conn.close()
        self.assertEqual(len(results), 60)
        self.assertEqual(len(set(results)), 1)


if __name__ == "__main__":
    unittest.main()
