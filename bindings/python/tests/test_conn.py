# SPDX-License-Identifier: MIT
"""Connection and schema through the idiomatic layer."""

import os
import unittest

import fastepost
from fastepost import core
from support import DbTestCase


class Versions(unittest.TestCase):
    def test_versions_agree(self):
        self.assertRegex(fastepost.__version__, r"^\d+\.\d+\.\d+$")
        self.assertEqual(fastepost.version(), fastepost.__version__)
        self.assertEqual(fastepost.version_info(),
                         (core.VERSION_MAJOR, core.VERSION_MINOR, core.VERSION_PATCH))

    def test_schema_sql(self):
        sql = fastepost.schema_sql()
        self.assertIsInstance(sql, str)
        self.assertIn("CREATE TABLE IF NOT EXISTS customers", sql)


class ConnectionTests(DbTestCase):
    def test_context_manager_closes(self):
        with fastepost.connect(self.dsn) as conn:
            self.assertIsInstance(conn, fastepost.Connection)
            self.assertFalse(conn.closed)
            self.assertEqual(self.backends(), 1)
        self.assertTrue(conn.closed)
        self.assertEqual(self.backends(expect=0), 0)
        conn.close()  # twice is fine

    def test_context_manager_closes_on_exception(self):
        with self.assertRaises(KeyError):
            with fastepost.connect(self.dsn) as conn:
                raise KeyError("boom")
        self.assertTrue(conn.closed)

    def test_attributes(self):
        with fastepost.connect(self.dsn) as conn:
            self.assertEqual(conn.database, self.dbname)
            self.assertGreaterEqual(conn.server_version, 120000)
            self.assertEqual(conn.server_version, int(self.sql("SHOW server_version_num")))
            conn.ping()
            self.assertIn(self.dbname, repr(conn))
        # A closed connection raises rather than answering 0 or "" (issue 14, item 7).
        self.assertTrue(conn.closed)
        with self.assertRaises(fastepost.ConnectionError):
            conn.database
        with self.assertRaises(fastepost.ConnectionError):
            conn.server_version
        with self.assertRaises(fastepost.ConnectionError):
            conn.ping()
        with self.assertRaises(fastepost.ConnectionError):
            conn.schema_version()
        self.assertIn("closed", repr(conn))

    def test_reset_after_close(self):
        conn = fastepost.Connection(self.dsn, statement_timeout=1.5)
        conn.close()
        conn.reset()
        conn.ping()
        self.assertEqual(conn.statement_timeout, 1.5)
        self.assertEqual(conn.database, self.dbname)
        conn.close()

    def test_statement_timeout_keyword(self):
        with fastepost.connect(self.dsn, statement_timeout=2) as conn:
            self.assertEqual(conn.statement_timeout, 2)
            conn.statement_timeout = 0.25
            self.assertEqual(conn.statement_timeout, 0.25)
        with self.assertRaises(TypeError):
            fastepost.connect(self.dsn, no_such_option=1)

    def test_timeout_defaults(self):
        with fastepost.connect(self.dsn) as conn:
            self.assertEqual(conn.statement_timeout, 30)
            self.assertEqual(conn.lock_timeout, 5)
            conn.lock_timeout = 0.3
            self.assertEqual(conn.lock_timeout, 0.3)
            conn.lock_timeout = 0  # 0 (or None) restores the default: there is no "off"
            self.assertEqual(conn.lock_timeout, 5)
            conn.statement_timeout = 0.0005  # rounded up to the server's milliseconds
            self.assertEqual(conn.statement_timeout, 0.001)
            conn.statement_timeout = None
            self.assertEqual(conn.statement_timeout, 30)
            with self.assertRaises(fastepost.InvalidError):
                conn.lock_timeout = -1
            with self.assertRaises(TypeError):
                conn.lock_timeout = "5"

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork()")
    def test_fork_child_reconnects_and_parent_session_survives(self):
        backend = ("SELECT string_agg(pid::text, ' ') FROM pg_stat_activity "
                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
            parent_backend = self.sql(backend)
            pid = os.fork()
            if pid == 0:  # the child: its first call reconnects transparently
                code = 1
                try:
                    conn.ping()
                    if conn.schema_version().up_to_date:
                        code = 0
                    conn.close()
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(status), 0)
            # The parent's own session was neither used nor terminated by the child.
            conn.ping()
            self.assertIn(parent_backend, self.sql(backend).split())

    def test_schema_install_and_version(self):
        with fastepost.connect(self.dsn) as conn:
            before = conn.schema_version()
            self.assertIsInstance(before, fastepost.SchemaVersion)
            self.assertEqual(before.current, 0)
            self.assertFalse(before.up_to_date)
            applied = conn.schema_install()
            self.assertIsInstance(applied, int)
            self.assertEqual(applied, before.latest)
            self.assertEqual(conn.schema_install(), 0)
            after = conn.schema_version()
            self.assertTrue(after.up_to_date)
            self.assertEqual(after.to_dict(), {"current": before.latest, "latest": before.latest})
            self.assertEqual(after, fastepost.SchemaVersion(before.latest, before.latest))
            self.assertIn("current=", repr(after))
        self.assertEqual(int(self.sql("SELECT max(version) FROM fastepost_schema_migrations")),
                         before.latest)
        self.assertEqual(self.sql("SELECT to_regclass('customers') IS NOT NULL"), "t")


class CoreLayer(DbTestCase):
    """The SWIG layer itself: out-parameters become return values, handles own themselves."""

    def test_conn_open_returns_an_owned_handle(self):
        conn = core.conn_open(self.dsn)
        self.assertIsInstance(conn, core.Conn)
        self.assertTrue(conn.thisown)
        current, latest = core.schema_version(conn)  # a list or tuple, by SWIG version
        self.assertEqual(current, 0)
        self.assertGreaterEqual(latest, 1)
        self.assertEqual(core.conn_database(conn), self.dbname)
        del conn

    def test_free_is_not_exposed(self):
        self.assertFalse(hasattr(core, "conn_free"))
        self.assertFalse(hasattr(core, "free"))


if __name__ == "__main__":
    unittest.main()
