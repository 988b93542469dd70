# SPDX-License-Identifier: MIT
"""Every exception class: the mapping from codes, the attributes, and the real failures the
current API produces."""

import unittest

import fastepost
from fastepost import core
from support import DbTestCase, dsn_for, server_dsn

CLASSES = {
    core.ENOMEM: (fastepost.NoMemoryError, MemoryError),
    core.EINVALID: (fastepost.InvalidError, ValueError),
    core.ENOTFOUND: (fastepost.NotFoundError, LookupError),
    core.ECONFLICT: (fastepost.ConflictError, None),
    core.EPARSE: (fastepost.ParseError, ValueError),
    core.EDB: (fastepost.DatabaseError, None),
    core.ECONN: (fastepost.ConnectionError, ConnectionError),
    core.EIO: (fastepost.IOError, OSError),
    core.EEXTERNAL: (fastepost.ExternalError, None),
    core.EAUTH: (fastepost.AuthError, None),
    core.ETOOBIG: (fastepost.TooBigError, ValueError),
    core.ENOKEY: (fastepost.NoKeyError, None),
    core.EVERSION: (fastepost.VersionError, None),
    core.ECANCELED: (fastepost.CanceledError, None),
    core.EBUSY: (fastepost.BusyError, None),
    core.ETIMEOUT: (fastepost.TimeoutError, TimeoutError),
    core.EFULL: (fastepost.FullError, OSError),
    core.EREADONLY: (fastepost.ReadOnlyError, None),
}


class ErrorClasses(unittest.TestCase):
    def test_every_code_raises_its_class(self):
        for code, (cls, mixin) in CLASSES.items():
            with self.subTest(cls=cls.__name__):
                self.assertTrue(issubclass(cls, fastepost.Error))
                self.assertEqual(cls.code, code)
                self.assertIs(getattr(fastepost, cls.__name__), cls)
                if mixin:
                    self.assertTrue(issubclass(cls, mixin))
                with self.assertRaises(cls) as ctx:
                    core._raise_code(code, f"message for {cls.__name__} ✓", "42P01")
                e = ctx.exception
                self.assertIs(type(e), cls)
                self.assertEqual(e.code, code)
                self.assertEqual(e.sqlstate, "42P01")
                self.assertEqual(e.message, f"message for {cls.__name__} ✓")
                self.assertEqual(str(e), e.message)

    def test_generic_and_unknown_codes_raise_the_base_class(self):
        for code in (core.ERROR, -999):
            with self.assertRaises(fastepost.Error) as ctx:
                core._raise_code(code, "something", "")
            self.assertIs(type(ctx.exception), fastepost.Error)
            self.assertEqual(ctx.exception.code, code)
            self.assertEqual(ctx.exception.sqlstate, "")

    def test_all_classes_listed(self):
        self.assertEqual(len(CLASSES), 18)
        for name in fastepost.__all__:
            self.assertTrue(hasattr(fastepost, name), name)
        self.assertEqual(fastepost.Error.__module__, "fastepost")
        self.assertTrue(issubclass(fastepost.Error, Exception))

    def test_names_and_texts(self):
        self.assertEqual(fastepost.error_name(core.EDB), "FASTEPOST_EDB")
        self.assertEqual(fastepost.strerror(core.EDB), "database error")
        self.assertEqual(fastepost.error_name(-999), "FASTEPOST_UNKNOWN")


class RealFailures(DbTestCase):
    def test_invalid_connection_string(self):
        with self.assertRaises(fastepost.InvalidError) as ctx:
            fastepost.connect("host=localhost =broken")
        self.assertIn("invalid connection string", ctx.exception.message)
        self.assertEqual(ctx.exception.code, core.EINVALID)
        self.assertIsInstance(ctx.exception, ValueError)

    def test_unreachable_server(self):
        with self.assertRaises(fastepost.ConnectionError) as ctx:
            fastepost.connect("host=/nonexistent/socket/dir dbname=x connect_timeout=2")
        self.assertIn("cannot connect", ctx.exception.message)
        self.assertEqual(ctx.exception.sqlstate, "")

    def test_missing_database_is_a_connection_error(self):
        with self.assertRaises(fastepost.ConnectionError) as ctx:
            fastepost.connect(dsn_for("fp_no_such_database"))
        self.assertIn("fp_no_such_database", ctx.exception.message)

    def test_wrong_password(self):
        with self.assertRaises(fastepost.ConnectionError):
            fastepost.connect(f"{server_dsn()} user=fp_password password=wrong")

    def test_closed_connection(self):
        with fastepost.connect(self.dsn) as conn:
            conn.close()
            with self.assertRaises(fastepost.ConnectionError) as ctx:
                conn.ping()
            self.assertIn("closed", ctx.exception.message)
            with self.assertRaises(fastepost.ConnectionError):
                conn.schema_install()

    def test_negative_statement_timeout(self):
        with fastepost.connect(self.dsn) as conn:
            with self.assertRaises(fastepost.InvalidError):
                conn.statement_timeout = -1

    def test_database_error_carries_the_sqlstate(self):
        # A read-only session cannot create tables: SQLSTATE 25006 (ReadOnlyError, 503).
        dsn = self.dsn + " options='-c default_transaction_read_only=on'"
        with fastepost.connect(dsn) as conn:
            with self.assertRaises(fastepost.ReadOnlyError) as ctx:
                conn.schema_install()
            self.assertEqual(ctx.exception.sqlstate, "25006")
            self.assertEqual(ctx.exception.code, core.EREADONLY)
            self.assertIn("read-only", ctx.exception.message)
            conn.ping()  # the connection survives a failed statement

    def test_version_conflict(self):
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
            self.sql("INSERT INTO fastepost_schema_migrations (version, name) VALUES (9999, 'future')")
            with self.assertRaises(fastepost.VersionError) as ctx:
                conn.schema_install()
            self.assertIn("9999", ctx.exception.message)

    def test_incompatible_table(self):
        self.sql("CREATE TABLE customers (id bigserial PRIMARY KEY, email integer)")
        with fastepost.connect(self.dsn) as conn:
            with self.assertRaises(fastepost.ConflictError) as ctx:
                conn.schema_install()
            self.assertIn("email", ctx.exception.message)
            self.assertEqual(conn.schema_version().current, 0)

    def test_bad_argument_types(self):
        with self.assertRaises(TypeError):
            fastepost.connect(42)
        with self.assertRaises(ValueError):
            fastepost.connect("dbname=a\0b")
        with fastepost.connect(self.dsn) as conn:
            with self.assertRaises(TypeError):
                fastepost.core.schema_install(None)
            with self.assertRaises(TypeError):
                fastepost.core.schema_install("not a connection")
            with self.assertRaises(TypeError):
                conn.statement_timeout = "30"
            with self.assertRaises(TypeError):
                conn.export(["customers"])
            with self.assertRaises(TypeError):
                fastepost.core.import_options_set_max_errors(fastepost.core.ImportOptions(), "3")
            with self.assertRaises(TypeError):
                fastepost.core.export_options_set_limit(None, 3)


if __name__ == "__main__":
    unittest.main()
