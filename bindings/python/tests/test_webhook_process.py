# SPDX-License-Identifier: MIT
"""Connection.webhook_process: every CRM through one entry (issue 15), with WebhookConfig,
WebhookResponse and the failures that must close (no config, no section, wrong credentials)."""

import gc
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import fastepost
import webhook_fixtures as fx
from support import DbTestCase

# The keys of `fastepost webhook process --json` (docs/webhooks.md).
CLI_KEYS = {"status", "http_status", "response", "events", "error"}
CLI_EVENT_KEYS = {"index", "event_id", "outcome", "customer_id", "remark_id", "external_id", "error"}


class WebhookProcess(DbTestCase):
    def setUp(self):
        super().setUp()
        self.conn = fastepost.connect(self.dsn)
        self.addCleanup(self.conn.close)
        self.conn.schema_install()

    def written(self):
        return int(self.sql("SELECT (SELECT count(*) FROM integration_events) + "
                            "(SELECT count(*) FROM customers)"))

    def process(self, req, config=None, **kw):
        kw.setdefault("headers", req.headers)
        kw.setdefault("url", req.url)
        return self.conn.webhook_process(req.source, req.body, config=config, **kw)

    def test_sources(self):
        self.assertEqual(fastepost.webhook_sources(), list(fx.SOURCES))

    def test_config(self):
        cfg = fastepost.WebhookConfig({"odoo": {"api_keys": ["k1"]},
                                       "hubspot": {"client_secrets": ["s3cr3t-value"]}})
        self.assertTrue(cfg.has_source("odoo"))
        self.assertFalse(cfg.has_source("zoho"))
        self.assertFalse(cfg.has_source("nope"))
        self.assertEqual(cfg.sources(), ["odoo", "hubspot"])
        self.assertNotIn("s3cr3t", repr(cfg))
        self.assertEqual(fastepost.WebhookConfig().sources(), [])
        self.assertEqual(fastepost.WebhookConfig(b'{"hubspot": {"client_secrets": ["t"]}}').sources(), ["hubspot"])
        for bad in ('{"odoo": ', "[]", '{"acme": {}}', '{"odoo": {"api_keys": "x", "nope": 1}}'):
            with self.subTest(bad), self.assertRaises(fastepost.InvalidError):
                fastepost.WebhookConfig(bad)
        with self.assertRaises(fastepost.InvalidError) as e:
            fastepost.WebhookConfig({"odoo": {"api_keys": ["k"], "surprise": "very-secret-value"}})
        self.assertIn("surprise", str(e.exception))
        self.assertNotIn("very-secret-value", str(e.exception))
        with self.assertRaises(TypeError):
            fastepost.WebhookConfig(42)
        path = os.path.join(self.tmp_dir(), "c.json")
        with open(path, "w") as f:
            json.dump({"odoo": {"api_keys": ["k"]}}, f)
        self.assertEqual(fastepost.WebhookConfig.from_file(path).sources(), ["odoo"])

    def tmp_dir(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        return d

    def test_no_config_fails_closed(self):
        """No configuration, or none for the source: 401 for every source, nothing written."""
        have, _ = fx.available()
        other = fastepost.WebhookConfig({"odoo": {"api_keys": ["unrelated"]}})
        for req in have:
            for config in (None, {}, other if req.source != "odoo" else {"hubspot": {"client_secrets": ["x"]}}):
                with self.subTest(source=req.source, config=config):
                    r = self.process(req, config)
                    self.assertEqual(r.http_status, 401, r.to_dict())
                    self.assertFalse(r.ok)
                    self.assertIn(r.status, ("FASTEPOST_ENOKEY", "FASTEPOST_EAUTH"))
                    self.assertEqual(r.events, [])
        self.assertEqual(self.written(), 0, "a refused request writes nothing")

    def test_odoo_and_hubspot(self):
        for req in (fx.odoo(), fx.hubspot()):
            with self.subTest(req.source):
                cfg = fastepost.WebhookConfig(req.config)
                r = self.process(req, cfg)
                self.assertIsInstance(r, fastepost.WebhookResponse)
                self.assertEqual((r.http_status, r.status, r.code, r.ok, r.error), (200, "ok", 0, True, None),
                                 r.to_dict())
                self.assertIn("application/json", r.content_type)
                self.assertIsInstance(r.body, bytes)
                self.assertEqual(json.loads(r.body)["status"], "ok")
                self.assertFalse(r.spooled)
                self.assertFalse(r.handshake)
                self.assertEqual(r.events[0].outcome, "created")
                self.assertGreater(r.events[0].customer_id, 0)
                self.assertTrue(r.events[0].external_id, "the CRM's record")
                self.assertEqual(self.sql(f"SELECT count(*) FROM customers WHERE crm_id = '{req.expect}'"), "1")
                again = self.process(req, cfg)
                self.assertEqual(again.events[0].outcome, "duplicate")
                # Wrong credentials: 401, nothing more written.
                before = self.written()
                r = self.process(req, req.wrong_config())
                self.assertEqual(r.http_status, 401, r.to_dict())
                self.assertEqual(self.written(), before)
                with self.assertRaises(fastepost.AuthError) as e:
                    r.raise_for_status()
                self.assertIs(e.exception.result, r)

    def test_to_dict_has_the_cli_keys(self):
        req = fx.odoo()
        d = self.process(req, req.config).to_dict()
        self.assertEqual(set(d), CLI_KEYS)
        self.assertEqual(set(d["response"]), {"content_type", "body"})
        self.assertIsInstance(d["response"]["body"], str)
        self.assertEqual(set(d["events"][0]), CLI_EVENT_KEYS)
        self.assertEqual(d["events"][0]["external_id"], req.expect)
        json.dumps(d)  # plain data all the way down

    def test_to_dict_agrees_with_the_cli(self):
        """The same request through `fastepost webhook process --json` and through the binding:
        the same keys and types everywhere, the same answer."""
        req = fx.odoo()
        d = self.tmp_dir()
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(req.config, f)
        os.chmod(os.path.join(d, "config.json"), 0o600)
        with open(os.path.join(d, "headers"), "w") as f:
            f.writelines(f"{k}: {v}\n" for k, v in req.headers.items())
        with open(os.path.join(d, "body"), "wb") as f:
            f.write(req.body)
        mine = self.process(req, req.config).to_dict()
        out = subprocess.run([os.environ["FASTEPOST_CLI"], "webhook", "process", "odoo", "--json",
                              "--db", self.dsn, "--config", os.path.join(d, "config.json"),
                              "--header-file", os.path.join(d, "headers"), "--url", req.url,
                              os.path.join(d, "body")], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        cli = json.loads(out.stdout)
        again = self.process(req, req.config).to_dict()

        def shape(v, path=""):
            if isinstance(v, dict):
                return {k: shape(x, f"{path}.{k}") for k, x in v.items()}
            if isinstance(v, list):
                return [shape(x, path) for x in v]
            return type(v).__name__

        self.assertEqual(shape(cli), shape(again))
        self.assertEqual(set(shape(mine)), set(shape(cli)))
        self.assertEqual((cli["status"], cli["http_status"], cli["events"][0]["outcome"]),
                         (again["status"], again["http_status"], again["events"][0]["outcome"]))
        self.assertEqual(cli["events"][0]["outcome"], "duplicate")

    def test_every_source(self):
        """Each source's ok fixture: 2xx and its customer; wrong credentials: refused, nothing
        written. Every one of the six must have its fixture (the adapters leave them)."""
        have, missing = fx.available()
        for req in have:
            with self.subTest(req.source):
                cfg = fastepost.WebhookConfig(req.config)
                before = self.written()
                wrong = req.wrong_config()
                if wrong is not None:
                    r = self.process(req, wrong)
                    self.assertIn(r.http_status, (400, 401), r.to_dict())
                    self.assertEqual(self.written(), before, f"{req.source}: a refused request wrote")
                r = self.process(req, cfg)
                self.assertTrue(200 <= r.http_status < 300, r.to_dict())
                self.assertTrue(r.body)
                self.assertEqual(self.sql(f"SELECT count(*) FROM customers WHERE crm_id = '{req.expect}'"), "1",
                                 f"{req.source}: no customer {req.expect}")
                self.assertIn(req.expect, [e.external_id for e in r.events] +
                              [e.external_id.split(":", 1)[-1] for e in r.events if e.external_id])
        self.assertEqual(missing, [], "sources without tests/fixtures/<source>/ok.* (their adapters'): "
                         + ", ".join(missing))

    def test_monday_challenge(self):
        config, body = fx.challenge()
        r = self.conn.webhook_process("monday", body, headers={"Content-Type": "application/json"},
                                      config=config)
        self.assertEqual(r.http_status, 200, r.to_dict())
        self.assertTrue(r.handshake)
        self.assertEqual(json.loads(r.body), json.loads(body))
        self.assertEqual(self.written(), 0)

    def test_spool_without_connection(self):
        spool_dir = os.path.join(self.tmp_dir(), "spool")
        req = fx.odoo()
        cfg = fastepost.WebhookConfig(req.config, spool=spool_dir)
        r = fastepost.webhook_process("odoo", req.body, None, headers=req.headers, config=cfg, url=req.url)
        self.assertEqual(r.http_status, 202, r.to_dict())
        self.assertTrue(r.spooled)
        self.assertEqual(len(cfg.spool.list()), 1)
        # Refused before the spool: a wrong key is never spooled.
        r = fastepost.webhook_process("odoo", req.body, None, headers={"X-Odoo-Api-Key": "bad"}, config=cfg)
        self.assertEqual(r.http_status, 401)
        self.assertEqual(len(cfg.spool.list()), 1)
        # No connection and no spool: the host answers its connection failure (503).
        with self.assertRaises(fastepost.InvalidError):
            fastepost.webhook_process("odoo", req.body, None, headers=req.headers, config=req.config)
        with self.assertRaises(fastepost.InvalidError):
            self.conn.webhook_process("odoo", req.body, config=cfg, spool=spool_dir)

    def test_spool_replay_and_retry_with_the_config(self):
        """Every source's ok delivery spooled without a connection, then replayed with its
        WebhookConfig: the customer exists, as if delivered live. Retry takes the config too."""
        have, _ = fx.available()
        for req in have:
            with self.subTest(req.source):
                spool_dir = os.path.join(self.tmp_dir(), "spool-" + req.source)
                cfg = fastepost.WebhookConfig(req.config, spool=spool_dir)
                r = fastepost.webhook_process(req.source, req.body, None, headers=req.headers,
                                              config=cfg, url=req.url)
                self.assertTrue(r.spooled, r.to_dict())  # 202; Salesforce acks with 200
                report = cfg.spool.replay(self.conn, config=cfg)
                self.assertEqual((report.replayed, report.rejected), (1, 0), report)
                self.assertEqual(self.sql(f"SELECT count(*) FROM customers WHERE crm_id = '{req.expect}'"), "1",
                                 f"{req.source}: no customer {req.expect} after the replay")
                self.assertEqual(cfg.spool.list(), [])
        cfg = fastepost.WebhookConfig(have[0].config)
        self.assertEqual(self.conn.events_retry(config=cfg).attempted, 0)
        with self.assertRaises(TypeError):
            self.conn.events_retry(config=have[0].config)
        with self.assertRaises(TypeError):
            fastepost.Spool(os.path.join(self.tmp_dir(), "s")).replay(self.conn, config="{}")

    def test_caller_mistakes(self):
        req = fx.odoo()
        with self.assertRaises(TypeError):
            self.conn.webhook_process("odoo", req.body, headers={"X-Odoo-Api-Key": 5}, config=req.config)
        with self.assertRaises(TypeError):
            self.conn.webhook_process("odoo", 12, config=req.config)
        with self.assertRaises(TypeError):
            self.conn.webhook_process(None, req.body, config=req.config)
        with self.assertRaises(fastepost.InvalidError):
            self.conn.webhook_process("odoo", req.body, headers={"X-Odoo-Api-Key": "a\0b"}, config=req.config)
        r = self.conn.webhook_process("acme", req.body, config=req.config)
        self.assertEqual(r.http_status, 400)
        self.assertEqual(r.status, "FASTEPOST_EINVALID")
        # Headers as pairs, None values left out; bytearray bodies; malformed bodies are 400.
        r = self.conn.webhook_process("odoo", bytearray(req.body), config=req.config,
                                      headers=[("x-odoo-api-key", fx.ODOO_KEY), ("X-Other", None)])
        self.assertEqual(r.http_status, 200, r.to_dict())
        r = self.conn.webhook_process("odoo", b'{"_model": "res.partner", ', config=req.config, headers=req.headers)
        self.assertEqual(r.http_status, 400, r.to_dict())

    def test_gc_any_order(self):
        req = fx.odoo()
        cfg = fastepost.WebhookConfig(req.config)
        r = self.process(req, cfg)
        del cfg
        gc.collect()
        self.assertEqual(r.events[0].outcome, "created")
        conn = fastepost.connect(self.dsn)
        cfg = fastepost.WebhookConfig(req.config)
        r = conn.webhook_process("odoo", req.body, headers=req.headers, config=cfg)
        conn.close()
        del conn, cfg
        gc.collect()
        self.assertEqual(r.to_dict()["status"], "ok")


if __name__ == "__main__":
    unittest.main()
