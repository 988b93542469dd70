# SPDX-License-Identifier: MIT
"""Objects freed in every order under gc.collect(): nothing crashes, handles are released."""

import gc
import unittest

import fastepost
from fastepost import core
from support import DbTestCase


class GarbageCollection(DbTestCase):
    def tearDown(self):
        gc.collect()
        super().tearDown()

    def test_dropped_connection_disconnects(self):
        conn = fastepost.connect(self.dsn)
        self.assertEqual(self.backends(), 1)
        del conn
        gc.collect()
        self.assertEqual(self.backends(expect=0), 0)

    def test_closed_then_collected(self):
        conn = fastepost.connect(self.dsn)
        conn.close()
        del conn
        gc.collect()
        self.assertEqual(self.backends(expect=0), 0)

    def test_results_outlive_the_connection(self):
        conn = fastepost.connect(self.dsn)
        conn.schema_install()
        version = conn.schema_version()
        database = conn.database
        del conn
        gc.collect()
        self.assertTrue(version.up_to_date)
        self.assertEqual(database, self.dbname)
        self.assertEqual(version.to_dict()["current"], version.latest)

    def test_results_freed_first(self):
        conn = fastepost.connect(self.dsn)
        version = conn.schema_version()
        del version
        gc.collect()
        conn.ping()
        conn.close()
        del conn
        gc.collect()

    def test_exception_outlives_everything(self):
        conn = fastepost.connect(self.dsn)
        conn.close()
        try:
            conn.ping()
        except fastepost.ConnectionError as e:
            err = e
        del conn
        gc.collect()
        self.assertIn("closed", err.message)

    def test_core_handle_in_a_cycle(self):
        class Holder:
            pass

        a, b = Holder(), Holder()
        a.other, b.other = b, a
        a.conn = core.conn_open(self.dsn)
        b.conn = fastepost.connect(self.dsn)
        self.assertEqual(self.backends(), 2)
        del a, b
        gc.collect()
        self.assertEqual(self.backends(expect=0), 0)

    def test_many_connections_in_any_order(self):
        conns = [fastepost.connect(self.dsn) for _ in range(6)]
        conns[1].close()
        conns[4].close()
        for i in (3, 0, 5, 1, 4, 2):
            conns[i] = None
            gc.collect()
        self.assertEqual(self.backends(expect=0), 0)

    def test_failed_constructor_leaves_nothing(self):
        for _ in range(50):
            with self.assertRaises(fastepost.InvalidError):
                fastepost.connect("=broken")
        gc.collect()


if __name__ == "__main__":
    unittest.main()
