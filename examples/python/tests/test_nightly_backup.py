# SPDX-License-Identifier: MIT
"""nightly_backup.py in a child process: each run adds a verified backup, and --keep prunes the
directory to the newest N (other files are left alone)."""

import os
import subprocess
import sys
import tempfile
import time
import unittest

import fastepost
from support import DbTestCase

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nightly_backup.py")
# Runs the script. In a FASTEPOST_SANITIZE build the interpreter needs the ASan runtime
# preloaded, but pg_dump, which the library spawns with the inherited environment, hangs under
# it (as psql does): drop LD_PRELOAD from the environment once the interpreter has started.
LAUNCHER = ("import os, runpy, sys; os.environ.pop('LD_PRELOAD', None); sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")


def wait_for_next_second():
    """Backups are named by the second they start in. Nightly runs are a day apart; here, runs
    within one second would reuse a name that the previous run's prune freed (a name without
    suffix sorts before the suffixed ones of that second), so give each run its own second."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


class NightlyBackupTest(DbTestCase):
    def run_script(self, *args, **env):
        child_env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **env)
        return subprocess.run([sys.executable, "-c", LAUNCHER, SCRIPT, *args], env=child_env,
                              capture_output=True, text=True, timeout=120)

    def test_backup_verify_prune(self):
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
        self.sql("INSERT INTO customers (name, email) VALUES ('Ada', 'ada@example.com')")
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "backups")
            for _ in range(3):
                wait_for_next_second()
                out = self.run_script("--dir", d, "--keep", "2", DATABASE_URL=self.dsn)
                self.assertEqual(0, out.returncode, out.stderr)
                self.assertIn("written and verified", out.stdout)
            with open(os.path.join(d, "notes.txt"), "w") as f:
                f.write("not a backup\n")
            wait_for_next_second()
            out = self.run_script("--dir", d, "--keep", "2", "--format", "custom", "--dsn", self.dsn)
            self.assertEqual(0, out.returncode, out.stderr)

            files = sorted(os.listdir(d))
            backups = [f for f in files if f.startswith("backup_") and not f.endswith(".sha256")]
            self.assertEqual(2, len(backups), files)
            self.assertEqual(1, sum(f.endswith(".dump") for f in backups), files)
            self.assertIn("notes.txt", files)
            listed = fastepost.BackupDir(d).list(limit=10)
            self.assertEqual(2, len(listed))
            newest = next(f for f in backups if f.endswith(".dump"))
            with open(os.path.join(d, newest), "rb") as f:
                self.assertEqual(b"PGDMP", f.read(5), "a pg_dump custom archive")

    def test_failure_exit_status(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = self.run_script("--dir", tmp, "--keep", "2",
                                  DATABASE_URL=self.dsn + " connect_timeout=2 port=1")
            self.assertEqual(1, out.returncode)
            self.assertIn("ConnectionError", out.stderr)
            self.assertEqual([], os.listdir(tmp))
            self.assertEqual(2, self.run_script("--dir", tmp, "--keep", "0").returncode)


if __name__ == "__main__":
    unittest.main()
