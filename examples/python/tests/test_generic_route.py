# SPDX-License-Identifier: MIT
"""The WSGI example's generic route, POST /api/v1/integrations/<source>, over real HTTP
(webhooks.py under wsgiref in a child process) for every CRM source: its ok fixture -> 2xx and a
customer; no configuration or wrong credentials -> refused and nothing written; monday.com's
challenge echoed. The requests are those of bindings/python/tests/webhook_fixtures.py."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from http.client import HTTPConnection
from types import SimpleNamespace
from urllib.parse import urlsplit

import fastepost
import webhook_fixtures as fx
from support import DbTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "webhooks.py")


def merged(configs):
    out = {}
    for c in configs:
        out.update(c)
    return out


class GenericRouteTest(DbTestCase):
    def setUp(self):
        super().setUp()
        with fastepost.connect(self.dsn) as conn:
            conn.schema_install()
        self.servers = []
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.have, self.missing = fx.available()

    def tearDown(self):
        for proc in self.servers:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stdout.close()
        super().tearDown()

    def written(self):
        return int(self.sql("SELECT (SELECT count(*) FROM integration_events) + "
                            "(SELECT count(*) FROM customers)"))

    def start_server(self, config, metrics_token=None):
        """webhooks.py with this webhook configuration (a dict written to a file; None: none)."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("ODOO_API_KEY", "HUBSPOT_CLIENT_SECRET", "FASTEPOST_WEBHOOK_CONFIG",
                            "FASTEPOST_WEBHOOK_CONFIG_JSON")}
        env.update(DATABASE_URL=self.dsn, PYTHONPATH=os.pathsep.join(sys.path), PUBLIC_URL=fx.BASE_URL,
                   FASTEPOST_SPOOL_DIR=os.path.join(self.tmp, "spool"))
        env.pop("FASTEPOST_METRICS_TOKEN", None)
        if metrics_token:
            env["FASTEPOST_METRICS_TOKEN"] = metrics_token
        if config is not None:
            path = os.path.join(self.tmp, f"config-{len(self.servers)}.json")
            with open(path, "w") as f:
                json.dump(config, f)
            env["FASTEPOST_WEBHOOK_CONFIG"] = path
        proc = subprocess.Popen([sys.executable, SERVER, "--port", "0"], env=env,
                                stdout=subprocess.PIPE, text=True)
        self.servers.append(proc)
        line = proc.stdout.readline()
        self.assertIn("listening on http://", line, "webhooks.py exited before listening")
        return line.split()[-1]

    def post(self, base, req, headers=None):
        url = urlsplit(base)
        conn = HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request("POST", req.path, body=req.body, headers=req.headers if headers is None else headers)
            res = conn.getresponse()
            return res.status, res.getheader("Content-Type"), res.read()
        finally:
            conn.close()

    @staticmethod
    def fresh(req):
        """The request again; HubSpot's signed for the URL the server sees, now."""
        return fx.hubspot(url=fx.BASE_URL + req.path) if req.source == "hubspot" else req

    def get(self, base, path, headers=None):
        url = urlsplit(base)
        conn = HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            res = conn.getresponse()
            return res.status, res.getheader("Content-Type"), res.read()
        finally:
            conn.close()

    def test_metrics_only_with_the_token(self):
        """GET /metrics: off without a token (404), 401 without or with a wrong bearer token,
        the Prometheus text with it (docs/metrics.md)."""
        self.assertEqual(self.get(self.start_server(None), "/metrics")[0], 404)
        base = self.start_server(merged(r.config for r in self.have), metrics_token="s3cret-scrape")
        self.assertEqual(self.get(base, "/metrics")[0], 401)
        self.assertEqual(self.get(base, "/metrics", {"Authorization": "Bearer wrong"})[0], 401)
        status, ctype, body = self.get(base, "/metrics", {"Authorization": "Bearer s3cret-scrape"})
        self.assertEqual(status, 200, body)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        text = body.decode()
        for req in self.have:  # every configured source has its series, with or without events
            self.assertIn(f'fastepost_crm_events{{source="{req.source}",status="success"}}', text)
        self.assertIn("fastepost_spool_entries 0\n", text)

    def test_every_source(self):
        base = self.start_server(merged(r.config for r in self.have))
        for req in self.have:
            with self.subTest(req.source):
                status, ctype, body = self.post(base, self.fresh(req))
                self.assertTrue(200 <= status < 300, (status, body))
                self.assertTrue(body)
                self.assertTrue(ctype)
                self.assertEqual(self.sql(f"SELECT count(*) FROM customers WHERE crm_id = '{req.expect}'"), "1",
                                 f"{req.source}: no customer {req.expect}")
        status, _, _ = self.post(base, SimpleNamespace(path="/api/v1/integrations/acme", body=b"{}", headers={}))
        self.assertEqual(status, 404)
        self.assertEqual(self.missing, [], "sources without tests/fixtures/<source>/ok.*: "
                         + ", ".join(self.missing))

    def test_refused_without_configuration_or_with_wrong_credentials(self):
        none = self.start_server(None)
        for req in self.have:
            with self.subTest(req.source, config=None):
                status, _, body = self.post(none, self.fresh(req))
                self.assertEqual(status, 401, body)
        wrong = [r for r in self.have if r.wrong_config() is not None]
        base = self.start_server(merged(r.wrong_config() for r in wrong))
        for req in wrong:
            with self.subTest(req.source, config="wrong"):
                status, _, body = self.post(base, self.fresh(req))
                self.assertIn(status, (400, 401), body)
        right = self.start_server(merged(r.config for r in self.have))
        for req in self.have:
            req = self.fresh(req)
            headers = {k: v for k, v in req.headers.items()
                       if not re.search("authorization|api-key|signature", k, re.I)}
            if len(headers) == len(req.headers):
                continue  # credentials in the body: covered above
            with self.subTest(req.source, credentials=None):
                self.assertEqual(self.post(right, req, headers)[0], 401)
        self.assertEqual(self.written(), 0, "a refused request writes nothing")

    def test_monday_challenge(self):
        config, body = fx.challenge()
        base = self.start_server(config)
        status, ctype, answer = self.post(base, SimpleNamespace(
            path="/api/v1/integrations/monday", body=body, headers={"Content-Type": "application/json"}))
        self.assertEqual(status, 200, answer)
        self.assertIn("application/json", ctype)
        self.assertEqual(json.loads(answer), json.loads(body))
        self.assertEqual(self.written(), 0)


if __name__ == "__main__":
    unittest.main()
