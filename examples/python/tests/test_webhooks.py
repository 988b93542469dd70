# SPDX-License-Identifier: MIT
"""The WSGI example over real HTTP: webhooks.py runs in a child process on a free port of
127.0.0.1, requests go through http.client, and the database is checked with psql afterwards.
Uses the bindings' test support (a fresh database per test, FASTEPOST_TEST_DSN)."""

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from urllib.parse import urlsplit

import fastepost
from support import DbTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data")
SERVER = os.path.join(HERE, "..", "webhooks.py")
KEY = "odoo-test-key"
SECRET = "hubspot-client-secret"
ODOO = "/api/v1/integrations/odoo"
HUBSPOT = "/api/v1/integrations/hubspot"


def data(*parts):
    with open(os.path.join(DATA, *parts), "rb") as f:
        return f.read()


class WebhookTest(DbTestCase):
    def setUp(self):
        super().setUp()
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
        self.servers = []
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.spool_dir = os.path.join(self.tmp, "spool")

    def tearDown(self):
        for proc in self.servers:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stdout.close()
        super().tearDown()

    def start_server(self, **env):
        """Start webhooks.py with this environment; returns its base URL once it listens."""
        child_env = {k: v for k, v in os.environ.items()
                     if k not in ("ODOO_API_KEY", "HUBSPOT_CLIENT_SECRET", "PUBLIC_URL")}
        child_env.update(DATABASE_URL=self.dsn, PYTHONPATH=os.pathsep.join(sys.path),
                         FASTEPOST_SPOOL_DIR=self.spool_dir)
        child_env.update(env)
        proc = subprocess.Popen([sys.executable, SERVER, "--port", "0"], env=child_env,
                                stdout=subprocess.PIPE, text=True)
        self.servers.append(proc)
        line = proc.stdout.readline()
        self.assertIn("listening on http://", line, "webhooks.py exited before listening")
        return line.split()[-1]

    def post(self, base, path, body, headers=None):
        url = urlsplit(base)
        conn = HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request("POST", path, body=body,
                         headers={"Content-Type": "application/json", **(headers or {})})
            res = conn.getresponse()
            return res.status, json.loads(res.read())
        finally:
            conn.close()

    def test_odoo_deliveries(self):
        base = self.start_server(ODOO_API_KEY=KEY)
        created = data("odoo", "01_partner_created.json")

        status, body = self.post(base, ODOO, created, {"X-Odoo-Api-Key": KEY})
        self.assertEqual(200, status, body)
        self.assertEqual("created", body["outcome"])
        self.assertEqual(200, body["http_status"])

        status, body = self.post(base, f"{ODOO}?api_key={KEY}", created)  # the key in the query
        self.assertEqual(200, status, body)
        self.assertEqual("duplicate", body["outcome"])

        status, body = self.post(base, ODOO, data("odoo", "02_partner_phone_changed.json"),
                                 {"X-Odoo-Api-Key": "wrong"})
        self.assertEqual(401, status)
        self.assertEqual("AuthError", body["error"])
        self.assertEqual(401, self.post(base, ODOO, created)[0], "no key presented")

        status, body = self.post(base, ODOO, data("odoo", "06_truncated.json"), {"X-Odoo-Api-Key": KEY})
        self.assertEqual(400, status)
        self.assertEqual("ParseError", body["error"])

        huge = b'{"_model": "res.partner", "id": 7, "name": "' + b"x" * (1 << 20) + b'"}'
        status, body = self.post(base, ODOO, huge, {"X-Odoo-Api-Key": KEY})
        self.assertEqual(413, status)
        self.assertEqual("TooBigError", body["error"])

        status, _ = self.post(base, f"{ODOO}?event=unlink&api_key={KEY}",
                              data("odoo", "02_partner_phone_changed.json"))
        self.assertEqual(200, status)

        self.assertEqual("1", self.sql("SELECT count(*) FROM customers"))
        self.assertEqual("f", self.sql("SELECT active FROM customers WHERE crm_id = 'res.partner:42'"),
                         "?event=unlink deactivates")
        self.assertEqual("2", self.sql("SELECT count(*) FROM integration_events "
                                       "WHERE source = 'odoo' AND status <> 'error'"))
        self.assertGreaterEqual(int(self.sql("SELECT count(*) FROM integration_events "
                                             "WHERE status = 'error'")), 1,
                                "the malformed delivery is logged")

    def test_odoo_authentication(self):
        """Item 1 of issue 11: the key is checked by processing itself; None/empty never skip it."""
        base = self.start_server(ODOO_API_KEY=f"old-key, {KEY}")  # rotating: both accepted
        created = data("odoo", "01_partner_created.json")
        refused = {
            "no key": (ODOO, {}),
            "empty ?api_key=": (f"{ODOO}?api_key=", {}),
            "empty header": (ODOO, {"X-Odoo-Api-Key": ""}),
            "empty header, right key in the query": (f"{ODOO}?api_key={KEY}", {"X-Odoo-Api-Key": ""}),
            "wrong key": (ODOO, {"X-Odoo-Api-Key": "wrong-key-123"}),
            "wrong key in the query": (f"{ODOO}?api_key=wrong-key-123", {}),
        }
        for what, (path, headers) in refused.items():
            with self.subTest(what):
                status, body = self.post(base, path, created, headers)
                self.assertEqual(401, status, body)
                self.assertEqual("AuthError", body["error"])
                self.assertNotRegex(json.dumps(body), f"{KEY}|old-key|wrong-key-123",
                                    "no key in the answer")
        self.assertEqual("0", self.sql("SELECT count(*) FROM integration_events"),
                         "a refused delivery writes nothing")
        self.assertEqual("0", self.sql("SELECT count(*) FROM customers"))

        status, body = self.post(base, ODOO, created, {"X-Odoo-Api-Key": KEY})
        self.assertEqual(200, status, body)
        self.assertEqual("created", body["outcome"])
        status, body = self.post(base, f"{ODOO}?api_key=old-key",
                                 data("odoo", "02_partner_phone_changed.json"))
        self.assertEqual(200, status, body)
        self.assertEqual("updated", body["outcome"])
        self.assertEqual("2", self.sql("SELECT count(*) FROM integration_events"))
        self.assertEqual("1", self.sql("SELECT count(*) FROM customers"))

    def test_odoo_spooled_while_the_database_is_unreachable(self):
        # A server whose database cannot be reached: a socket directory that does not exist.
        base = self.start_server(ODOO_API_KEY=KEY,
                                 DATABASE_URL=f"host={self.tmp}/nosocket dbname=x connect_timeout=2")
        status, body = self.post(base, ODOO, data("odoo", "01_partner_created.json"),
                                 {"X-Odoo-Api-Key": KEY})
        self.assertEqual(202, status, body)
        self.assertEqual("spooled", body["outcome"])
        self.assertEqual(401, self.post(base, ODOO, b"{}", {"X-Odoo-Api-Key": "wrong"})[0])
        spool = fastepost.Spool(self.spool_dir)
        self.assertEqual(1, len(spool.list()))
        self.assertEqual("0", self.sql("SELECT count(*) FROM customers"))
        # The cron job's `fastepost spool replay`, here through the binding.
        with fastepost.connect(self.dsn) as conn:
            self.assertEqual(1, spool.replay(conn).replayed)
        self.assertEqual("1", self.sql("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:42'"))
        self.assertEqual([], spool.list())

    def test_odoo_without_configured_key(self):
        base = self.start_server()
        status, body = self.post(base, ODOO, data("odoo", "01_partner_created.json"),
                                 {"X-Odoo-Api-Key": KEY})
        self.assertEqual(401, status)
        self.assertEqual("NoKeyError", body["error"])
        self.assertEqual(401, self.post(base, f"{ODOO}?api_key=", data("odoo", "01_partner_created.json"))[0],
                         "none configured, none presented")
        self.assertEqual("0", self.sql("SELECT count(*) FROM customers"))
        self.assertEqual("0", self.sql("SELECT count(*) FROM integration_events"))

    def test_concurrent_requests_share_a_bounded_pool(self):
        """Issue 13 item 3: more concurrent requests than the pool has connections; every one is
        served (they wait for a free connection) and the server never opens more than the pool
        size."""
        base = self.start_server(ODOO_API_KEY=KEY, FASTEPOST_POOL="2", FASTEPOST_POOL_TIMEOUT="20")
        template = json.loads(data("odoo", "01_partner_created.json"))
        bodies = [json.dumps({**template, "id": 1000 + i, "_id": 1000 + i,
                              "email": f"pool{i}@example.com",
                              "mobile": f"+49 170 100{i:04d}"}).encode() for i in range(1, 13)]
        start = threading.Barrier(len(bodies))

        def deliver(body):
            start.wait(timeout=30)  # all requests at once
            return self.post(base, ODOO, body, {"X-Odoo-Api-Key": KEY})

        with ThreadPoolExecutor(len(bodies)) as ex:
            answers = list(ex.map(deliver, bodies))
        self.assertEqual([200] * len(bodies), [status for status, _ in answers], answers)
        self.assertEqual({"created"}, {body["outcome"] for _, body in answers})
        self.assertEqual(str(len(bodies)), self.sql("SELECT count(*) FROM customers"))
        self.assertLessEqual(int(self.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                          "current_database() AND pid <> pg_backend_pid()")), 2,
                             "at most FASTEPOST_POOL connections")

    def test_pool_timeout_answers_503(self):
        """A request that finds no connection free within the pool's timeout is answered 503
        (PoolTimeout), so the sender delivers again. The pool's only connection is held here."""
        sys.path.insert(0, os.path.dirname(SERVER))
        try:
            import webhooks
        finally:
            sys.path.pop(0)
        pool = fastepost.Pool(self.dsn, size=1, timeout=0.2)
        self.addCleanup(pool.close)
        app = webhooks.WebhookApp(pool=pool, odoo_api_keys=[KEY])
        body = data("odoo", "01_partner_created.json")

        def call():
            environ = {"REQUEST_METHOD": "POST", "PATH_INFO": ODOO, "QUERY_STRING": "",
                       "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
                       "HTTP_X_ODOO_API_KEY": KEY, "wsgi.input": io.BytesIO(body)}
            answer = {}
            chunks = app(environ, lambda status, headers: answer.update(status=status))
            return int(answer["status"].split()[0]), json.loads(b"".join(chunks))

        with pool.connection():
            status, answer = call()
        self.assertEqual(503, status, answer)
        self.assertEqual("PoolTimeout", answer["error"])
        self.assertEqual(503, answer["http_status"])
        self.assertEqual("0", self.sql("SELECT count(*) FROM integration_events"), "nothing written")
        self.assertEqual(200, call()[0], "free again: served")
        # With a spool, an Odoo delivery that finds no connection free is kept (202): Odoo never
        # redelivers, so a 503 would lose it.
        app = webhooks.WebhookApp(pool=pool, odoo_api_keys=[KEY], spool_dir=self.spool_dir)
        with pool.connection():
            status, answer = call()
        self.assertEqual(202, status, answer)
        self.assertEqual("spooled", answer["outcome"])
        self.assertEqual(1, len(fastepost.Spool(self.spool_dir).list()))

    def test_hubspot(self):
        base = self.start_server(HUBSPOT_CLIENT_SECRET=SECRET)
        body = data("hubspot", "batch.json")
        now = str(int(time.time() * 1000))

        def headers(secret):
            sig = fastepost.hubspot_sign(secret, body=body, method="POST", uri=base + HUBSPOT,
                                         timestamp=now)
            return {"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": now}

        status, answer = self.post(base, HUBSPOT, body, headers("not-the-secret"))
        self.assertEqual(401, status, answer)
        self.assertEqual("0", self.sql("SELECT count(*) FROM integration_events"))

        status, answer = self.post(base, HUBSPOT, body, headers(SECRET))
        self.assertEqual(200, status, answer)
        self.assertEqual(7, len(answer["events"]))
        self.assertEqual("7", self.sql("SELECT count(*) FROM integration_events WHERE source = 'hubspot'"))
        self.assertEqual("ada@example.com",
                         self.sql("SELECT email FROM customers WHERE crm_source = 'hubspot'"))


if __name__ == "__main__":
    unittest.main()
