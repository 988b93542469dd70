# SPDX-License-Identifier: MIT
"""Test support: each test gets a database of its own on the throwaway server that
scripts/with-postgres started (FASTEPOST_TEST_DSN), and drops it afterwards. Checks go through
psql, a separate connection, so that the library is never asked to confirm its own work."""

import gc
import locale
import os
import subprocess
import sys
import time
import unittest
import uuid


def server_dsn():
    # A missing server is a failure, not a skip: a test that did not run must not count as passed.
    dsn = os.environ.get("FASTEPOST_TEST_DSN")
    if not dsn:
        raise RuntimeError("FASTEPOST_TEST_DSN is not set: run the tests through scripts/test "
                           "or scripts/with-postgres")
    return dsn


def _setlocale_from_env():
    """The locale suite (ctest label `locale`) sets FASTEPOST_TEST_SETLOCALE=1 and LC_ALL: do what
    many hosts do, locale.setlocale(LC_ALL, ""), so that LC_NUMERIC too follows the environment
    (Python itself sets only LC_CTYPE). A locale that is not installed fails: a run that fell
    back to "C" would prove nothing."""
    if os.environ.get("FASTEPOST_TEST_SETLOCALE") != "1":
        return
    try:
        name = locale.setlocale(locale.LC_ALL, "")
    except locale.Error as e:
        raise RuntimeError(f"FASTEPOST_TEST_SETLOCALE: cannot set LC_ALL={os.environ.get('LC_ALL')} "
                           f"({e}; scripts/deps locales generates the test locales)") from e
    print(f"FASTEPOST_TEST_SETLOCALE: running under {name} "
          f"(decimal point {locale.localeconv()['decimal_point']!r})", file=sys.stderr)


_setlocale_from_env()


def quote_value(value):
    """Quote a conninfo value (libpq key='value' syntax)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def dsn_for(dbname, extra=""):
    return f"{server_dsn()} dbname={quote_value(dbname)} {extra}".strip()


# Child processes (psql) must not inherit the sanitizer runtime that a FASTEPOST_SANITIZE build
# preloads into the interpreter: psql deadlocks under it.
CHILD_ENV = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}


def psql(sql, dbname="postgres", check=True):
    """Run SQL through psql; returns its unaligned, tuples-only output, stripped."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn_for(dbname), "-c", sql],
        capture_output=True, text=True, encoding="utf-8", env=CHILD_ENV)
    if check and out.returncode != 0:
        raise AssertionError(f"psql failed: {sql}\n{out.stderr}")
    return out.stdout.strip()


def create_database(prefix="fp_py"):
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    psql(f"CREATE DATABASE {quote_ident(name)}")
    return name


def drop_database(name):
    psql(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


class DbTestCase(unittest.TestCase):
    """A fresh empty database per test: self.dbname, self.dsn."""

    def setUp(self):
        self.dbname = create_database()
        self.dsn = dsn_for(self.dbname)

    def tearDown(self):
        drop_database(self.dbname)

    def sql(self, query):
        return psql(query, self.dbname)

    def hold_lock(self, table, seconds=1.0):
        """Start a psql session that holds an exclusive lock on `table` for `seconds`; returns
        once the lock is granted (the session is waited for at cleanup)."""
        proc = subprocess.Popen(["psql", "-X", "-q", "-d", self.dsn, "-c",
                                 f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; "
                                 f"SELECT pg_sleep({seconds}); COMMIT;"],
                                stdout=subprocess.DEVNULL, env=CHILD_ENV)
        self.addCleanup(proc.wait)
        deadline = time.monotonic() + 10
        while self.sql("SELECT count(*) FROM pg_locks WHERE granted AND mode = "
                       f"'AccessExclusiveLock' AND relation = '{table}'::regclass") != "1":
            self.assertLess(time.monotonic(), deadline, "the lock was never taken")
            time.sleep(0.02)

    def backends(self, expect=None):
        """How many sessions are connected to this test's database (psql's own excluded). A
        backend leaves pg_stat_activity shortly after its client disconnects, so wait up to
        2 s for the count to reach `expect` (collecting garbage meanwhile)."""
        for _ in range(40):
            n = int(psql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                         f"'{self.dbname}' AND pid <> pg_backend_pid()"))
            if expect is None or n == expect:
                return n
            gc.collect()
            time.sleep(0.05)
        return n
