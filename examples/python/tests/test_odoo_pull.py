# SPDX-License-Identifier: MIT
"""odoo_pull.py in a child process against the stand-in Odoo (tests/fake_odoo/fake_odoo.py):
the counts it prints, a second run that changes nothing, the key from a file or the environment
but never the command line (handed to the binding in memory), and its exit statuses (0 ok, 1 pull failed, 2 usage, 3 records
not synced)."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

from support import CHILD_ENV, DbTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "odoo_pull.py")
FAKE_ODOO = os.path.join(os.environ.get("FASTEPOST_SOURCE_DIR", os.path.join(HERE, "..", "..", "..")),
                         "tests", "fake_odoo", "fake_odoo.py")
KEY = "pull-test-key-8f3a"  # the fake server's key for this test's tenant

sys.path.insert(0, os.path.join(HERE, ".."))
import odoo_pull  # noqa: E402  (the module itself, for what it would run)


class FakeOdoo:
    """One stand-in server for the module's tests (it leaves by itself after 30 s idle)."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        port_file = os.path.join(self.dir.name, "port")
        self.proc = subprocess.Popen([sys.executable, FAKE_ODOO, port_file], env=CHILD_ENV,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fake Odoo did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.base = f"http://127.0.0.1:{int(f.read())}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()


class OdooPullScriptTest(DbTestCase):
    @classmethod
    def setUpClass(cls):
        cls.odoo = FakeOdoo()

    @classmethod
    def tearDownClass(cls):
        cls.odoo.stop()

    def setUp(self):
        super().setUp()
        self.url = f"{self.odoo.base}/t/{uuid.uuid4().hex}"  # a tenant of its own
        self.admin("reset", {"key": KEY, "db": "odoo"})
        self.sql_install()

    def admin(self, command, body):
        req = urllib.request.Request(f"{self.url}/__admin/{command}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)["result"]

    def sql_install(self):
        out = subprocess.run([os.environ["FASTEPOST_CLI"], "--db", self.dsn, "schema", "install"],
                             capture_output=True, text=True, env=CHILD_ENV, timeout=60)
        self.assertEqual(0, out.returncode, out.stderr)

    def partner(self, rid, name, email, when):
        self.admin("write", {"model": "res.partner", "id": rid, "tx_start": when,
                             "values": {"name": name, "email": email}})

    def run_script(self, *args, key_env=None, **env):
        # The script loads the binding: it gets this interpreter's environment, with the ASan
        # runtime preloaded in a FASTEPOST_SANITIZE build (it starts no child that would mind).
        child_env = {k: v for k, v in os.environ.items()
                     if k not in ("ODOO_API_KEY", "ODOO_API_KEY_FILE", "ODOO_URL", "ODOO_DATABASE")}
        child_env["PYTHONPATH"] = os.pathsep.join(sys.path)
        child_env["DATABASE_URL"] = self.dsn
        child_env.update(env)
        if key_env is not None:
            child_env["ODOO_API_KEY"] = key_env
        return subprocess.run([sys.executable, SCRIPT, *args], env=child_env, capture_output=True,
                              text=True, timeout=120)

    def test_pull_counts_then_nothing_changes(self):
        self.partner(1, "Ada Lovelace", "ada@example.org", "2026-01-01 10:00:01")
        self.partner(2, "Grace Hopper", "grace@example.org", "2026-01-01 10:00:02")
        out = self.run_script("--database", "odoo", key_env=KEY, ODOO_URL=self.url)
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertIn("odoo pull: fetched 2, created 2, updated 0", out.stdout)
        self.assertIn("cursor res.partner 2026-01-01T10:00:02Z", out.stdout)
        self.assertEqual("Ada Lovelace|res.partner:1\nGrace Hopper|res.partner:2",
                         self.sql("SELECT name || '|' || crm_id FROM customers ORDER BY crm_id"))
        events = self.sql("SELECT count(*) FROM integration_events")
        # The second run reads the overlap window again: every record a duplicate, no new row.
        out = self.run_script("--url", self.url, "--database", "odoo", "--json", key_env=KEY)
        self.assertEqual(0, out.returncode, out.stderr)
        counts = json.loads(out.stdout)
        self.assertEqual((2, 0, 2), (counts["fetched"], counts["created"], counts["duplicate"]))
        self.assertEqual(events, self.sql("SELECT count(*) FROM integration_events"))
        self.assertEqual("2", self.sql("SELECT count(*) FROM customers"))

    def test_key_from_a_file_never_on_the_command_line(self):
        self.partner(5, "Katherine Johnson", "kj@example.org", "2026-01-02 09:00:00")
        with tempfile.TemporaryDirectory() as tmp:
            key_file = os.path.join(tmp, "odoo-api-key")
            with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(KEY + "\n")
            out = self.run_script("--url", self.url, "--database", "odoo", "--quiet",
                                  key_env="not-this-one", ODOO_API_KEY_FILE=key_file)
            self.assertEqual(0, out.returncode, out.stderr)
            self.assertEqual("", out.stdout, "--quiet prints nothing when all synced")
            self.assertEqual("1", self.sql("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:5'"))
            # The script has no option that takes the key itself (it would be in argv).
            with self.assertRaises(SystemExit):
                odoo_pull.parse_args(["--url", self.url, "--api-key", KEY])
        # JSON-2 sends it as a bearer token; the server saw no other authorization.
        log = self.admin("log", {})
        self.assertTrue(log and all(e["authorization"] in ("", "Bearer ", "bearer ") for e in log
                                    if e["method"] == "POST"), log)

    def test_fails_closed_without_a_key(self):
        self.partner(1, "Ada Lovelace", "ada@example.org", "2026-01-01 10:00:01")
        with tempfile.TemporaryDirectory() as tmp:
            empty = os.path.join(tmp, "empty")
            open(empty, "w").close()
            for run in (self.run_script("--url", self.url),
                        self.run_script("--url", self.url, key_env=""),
                        self.run_script("--url", self.url, "--api-key-file", empty, key_env=KEY),
                        self.run_script("--url", self.url, "--api-key-file", os.path.join(tmp, "missing"))):
                self.assertEqual(2, run.returncode, run.stdout + run.stderr)
                self.assertIn("odoo_pull:", run.stderr)
        self.assertEqual([], self.admin("log", {}), "no request without a key")
        self.assertEqual("0", self.sql("SELECT count(*) FROM customers"))
        self.assertEqual(2, self.run_script(key_env=KEY).returncode, "no URL")

    def test_bad_protocol_is_a_usage_error(self):
        out = self.run_script("--url", self.url, "--protocol", "xmlrpc", key_env=KEY)
        self.assertEqual(2, out.returncode, out.stdout + out.stderr)
        self.assertEqual([], self.admin("log", {}), "no request on a usage error")

    def test_refused_key_fails_without_echoing_it(self):
        self.partner(1, "Ada Lovelace", "ada@example.org", "2026-01-01 10:00:01")
        wrong = "wrong-key-0d5e77"
        out = self.run_script("--url", self.url, "--protocol", "json2", key_env=wrong)
        self.assertEqual(1, out.returncode, out.stdout + out.stderr)
        self.assertNotIn(wrong, out.stdout + out.stderr)
        self.assertIn("Invalid apikey (HTTP 401)", out.stderr)
        self.assertEqual("0", self.sql("SELECT count(*) FROM customers"))

    def test_unreachable_database_fails(self):
        out = self.run_script("--url", self.url, key_env=KEY,
                              DATABASE_URL=self.dsn + " host=/nonexistent connect_timeout=2")
        self.assertEqual(1, out.returncode, out.stdout + out.stderr)

    def test_records_not_synced_give_exit_status_3(self):
        self.partner(1, "Ada Lovelace", "ada@example.org", "2026-01-01 10:00:01")
        # Another contact with the same email: a conflict, this record alone is not applied.
        self.partner(2, "Ada Twin", "ada@example.org", "2026-01-01 10:00:02")
        out = self.run_script("--url", self.url, "--database", "odoo", "--json", key_env=KEY)
        counts = json.loads(out.stdout)
        self.assertEqual((2, 1), (counts["fetched"], counts["created"]), counts)
        self.assertEqual((1, 1), (counts["conflict"], counts["failed"]), counts)
        self.assertEqual(3, out.returncode, out.stderr)
        self.assertIn("1 record(s) not synced", out.stderr)
        self.assertEqual("Ada Lovelace", self.sql("SELECT string_agg(name, ',') FROM customers"))

if __name__ == "__main__":
    unittest.main()
