# SPDX-License-Identifier: MIT
"""The Odoo pull and push from Python, against the stand-in Odoo server (tests/fake_odoo/)."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import fastepost
from support import DbTestCase

FAKE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fake_odoo", "fake_odoo.py")
KEY = "fake-api-key"


class OdooSync(DbTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fp_py_odoo")
        portfile = os.path.join(cls.tmp, "port")
        cls.server = subprocess.Popen([sys.executable, FAKE, portfile], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(portfile):
            if time.monotonic() > deadline or cls.server.poll() is not None:
                raise RuntimeError("the fake Odoo server did not start")
            time.sleep(0.05)
        with open(portfile) as f:
            cls.port = int(f.read())

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait()

    def setUp(self):
        super().setUp()
        self.url = f"http://127.0.0.1:{self.port}/t/{self.dbname}"
        self.conn = fastepost.connect(self.dsn)
        self.addCleanup(self.conn.close)
        self.conn.schema_install()

    def admin(self, cmd, **body):
        req = urllib.request.Request(f"{self.url}/__admin/{cmd}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["result"]

    def test_pull_then_push_then_the_echo_changes_nothing(self):
        self.admin("write", id=1, values={"name": "Anna", "email": "anna@py.example"},
                   tx_start="2026-01-01 10:00:01")
        pulled = self.conn.odoo_pull(self.url, KEY, database="fake", protocol="json2")
        self.assertIsInstance(pulled, fastepost.OdooPullReport)
        self.assertEqual((pulled.fetched, pulled.created), (1, 1))
        self.assertEqual(pulled.cursors, {"res.partner": 1767261601 * 1_000_000})
        # a change made by someone else than the sync (psql) is queued and pushed
        self.sql("UPDATE customers SET name = 'Anna Local' WHERE crm_id = 'res.partner:1'")
        pushed = self.conn.odoo_push(self.url, KEY, database="fake", protocol="json2")
        self.assertIsInstance(pushed, fastepost.OdooPushReport)
        self.assertEqual(pushed.to_dict(), {"status": "ok", "attempted": 1, "written": 1, "created": 0,
                                            "conflicts": 0, "skipped": 0, "failed": 0})
        rec = self.admin("record", id=1)
        self.assertEqual(rec["name"], "Anna Local")
        # the webhook for our own write comes back unchanged and queues nothing
        body = dict(rec, _model="res.partner", _id=1)
        r = self.conn.odoo_process(json.dumps(body), host_authenticated=True)
        self.assertEqual(r.outcome, "unchanged")
        self.assertEqual(self.sql("SELECT count(*) FROM fastepost_sync_outbox"), "0")

    def test_conflicts_and_failures(self):
        self.admin("write", id=1, values={"name": "Bob"}, tx_start="2026-01-01 10:00:01")
        self.conn.odoo_pull(self.url, KEY, database="fake", user="bot", protocol="jsonrpc")
        self.sql("UPDATE customers SET name = 'Bob Local'")
        self.admin("race", id=1, values={"name": "Bob in Odoo"})
        pushed = self.conn.odoo_push(self.url, KEY, database="fake", user="bot", protocol="jsonrpc")
        self.assertEqual((pushed.conflicts, pushed.written), (1, 0))
        self.assertEqual(self.admin("record", id=1)["name"], "Bob in Odoo")
        # a wrong key: AuthError with the partial report, the key named nowhere, the row kept
        self.sql("UPDATE customers SET name = 'Bob Again'")
        with self.assertRaises(fastepost.AuthError) as cm:
            self.conn.odoo_push(self.url, "wrong-key-777", database="fake", protocol="json2")
        self.assertNotIn("wrong-key-777", str(cm.exception))
        self.assertIsInstance(cm.exception.report, fastepost.OdooPushReport)
        self.assertEqual(cm.exception.report.failed, 1)
        self.assertEqual(self.sql("SELECT attempts FROM fastepost_sync_outbox"), "1")
        with self.assertRaises(fastepost.InvalidError):
            self.conn.odoo_push(self.url, KEY, prefer="newest")
        with self.assertRaises(fastepost.InvalidError):
            self.conn.odoo_push("ftp://odoo.example", KEY)


if __name__ == "__main__":
    unittest.main()
