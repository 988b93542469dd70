# SPDX-License-Identifier: MIT
"""UTF-8 round trips: names in and out, messages, str and bytes arguments."""

import unittest

import fastepost
from support import dsn_for, drop_database, psql, quote_ident

NAME = "fp_py_tëst_日本語_✓"


class Utf8(unittest.TestCase):
    def setUp(self):
        drop_database(NAME)
        psql(f"CREATE DATABASE {quote_ident(NAME)}")

    def tearDown(self):
        drop_database(NAME)

    def test_database_name_round_trip(self):
        with fastepost.connect(dsn_for(NAME)) as conn:
            self.assertIsInstance(conn.database, str)
            self.assertEqual(conn.database, NAME)
            self.assertEqual(conn.schema_install(), conn.schema_version().latest)

    def test_bytes_dsn(self):
        with fastepost.connect(dsn_for(NAME).encode("utf-8")) as conn:
            self.assertEqual(conn.database, NAME)

    def test_message_keeps_utf8(self):
        missing = "fp_nicht_da_ü_✗"
        with self.assertRaises(fastepost.ConnectionError) as ctx:
            fastepost.connect(dsn_for(missing))
        self.assertIn(missing, ctx.exception.message)
        self.assertIn(missing, str(ctx.exception))

    def test_invalid_utf8_bytes_are_refused_not_crashed(self):
        # libpq sees the raw bytes; either the server refuses the name or it does not exist.
        with self.assertRaises(fastepost.Error):
            fastepost.connect(dsn_for("x").encode() + b" dbname=\xff\xfe")


if __name__ == "__main__":
    unittest.main()
