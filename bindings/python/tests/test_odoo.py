# SPDX-License-Identifier: MIT
"""Odoo webhook processing, the event log and HubSpot processing from Python."""

import gc
import json
import os
import shutil
import tempfile
import time
import unittest

import fastepost
from support import DbTestCase
from test_threads import Ticker

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures", "odoo")


def partner(pid=1, email="a@example.de", name="Anna", write_date="2024-05-03 10:00:00"):
    return json.dumps({"_model": "res.partner", "_id": pid, "id": pid, "name": name,
                       "email": email, "write_date": write_date})


KEY = "odoo-test-key-1"


class Odoo(DbTestCase):
    def setUp(self):
        super().setUp()
        self.conn = fastepost.connect(self.dsn)
        self.addCleanup(self.conn.close)
        self.conn.schema_install()

    def odoo(self, body, **kw):
        """Process with the key the test configures and presents."""
        kw.setdefault("api_key", KEY)
        kw.setdefault("expected_keys", [KEY])
        return self.conn.odoo_process(body, **kw)

    def test_every_outcome(self):
        c = self.conn
        r = self.odoo(partner())
        self.assertIsInstance(r, fastepost.EventResult)
        self.assertEqual((r.outcome, r.status, r.http_status, r.code, r.ok, r.error),
                         ("created", "ok", 200, 0, True, None))
        self.assertGreater(r.customer_id, 0)
        self.assertGreater(r.event_id, 0)
        self.assertEqual(self.odoo(bytearray(partner().encode())).outcome, "duplicate")
        self.assertEqual(self.odoo(partner(name="Anna B", write_date="2024-05-04 10:00:00")).outcome,
                         "updated")
        self.assertEqual(self.odoo(partner(name="Anna B", write_date="2024-05-05 10:00:00")).outcome,
                         "unchanged")
        self.assertEqual(self.odoo(partner(name="Old", write_date="2024-01-01 10:00:00")).outcome,
                         "stale")
        self.assertEqual(self.odoo(b'{"_model": "sale.order", "_id": 9, "name": "S9"}').outcome,
                         "ignored")
        d = r.to_dict()
        self.assertEqual(d["outcome"], "created")
        self.assertNotIn("event_type", d)
        self.assertEqual((d["remark_id"], d["task_id"]), (None, None), "ids None for none, as in --json")
        self.assertEqual(self.sql("SELECT name FROM customers"), "Anna B")

    def test_event_hint_and_form_body(self):
        c = self.conn
        self.odoo(partner())
        r = self.odoo(partner(write_date="2024-06-01 00:00:00"), event="unlink")
        self.assertEqual(r.outcome, "updated")
        self.assertEqual(self.sql("SELECT active FROM customers"), "f")
        with self.assertRaises(fastepost.InvalidError) as ctx:
            self.odoo(partner(), event="explode")
        self.assertEqual(ctx.exception.http_status, 400)
        with open(os.path.join(FIXTURES, "partner_form.txt"), "rb") as f:
            form = f.read()
        r = self.odoo(form, content_type="application/x-www-form-urlencoded; charset=utf-8")
        self.assertTrue(r.ok)

    def test_exceptions_carry_the_result(self):
        c = self.conn
        with self.assertRaises(fastepost.ParseError) as ctx:
            self.odoo(b'{"_model": "res.partner", "id": 1,')
        e = ctx.exception
        self.assertEqual((e.http_status, e.result.http_status, e.result.status),
                         (400, 400, "FASTEPOST_EPARSE"))
        self.assertIn("at byte", e.result.error)
        self.assertGreater(e.result.event_id, 0)  # failures are logged too
        with self.assertRaises(fastepost.TooBigError) as ctx:
            self.odoo(partner(), max_body=10)
        self.assertEqual(ctx.exception.result.http_status, 413)
        self.odoo(partner(pid=1))
        with self.assertRaises(fastepost.ConflictError) as ctx:
            self.odoo(partner(pid=2))
        self.assertEqual((ctx.exception.http_status, ctx.exception.result.outcome), (409, "conflict"))
        with self.assertRaises(fastepost.ParseError):
            self.odoo(b"\xff\xfe")
        # The host's pattern:
        try:
            self.odoo(b"nope")
        except fastepost.Error as e:
            status = e.result.http_status if e.result else e.http_status
        self.assertEqual(status, 400)
        with self.assertRaises(TypeError):
            self.odoo(42)

    def count(self, table):
        return int(self.sql(f"SELECT count(*) FROM {table}"))

    def assert_refused(self, exc, **kw):
        """A refused request: exc, HTTP 401 on the exception and its result, nothing written."""
        before = (self.count("integration_events"), self.count("customers"))
        with self.assertRaises(exc) as ctx:
            self.conn.odoo_process(partner(pid=7, email="k@x.de"), **kw)
        self.assertEqual((ctx.exception.http_status, ctx.exception.result.http_status), (401, 401))
        self.assertNotIn(KEY, str(ctx.exception))
        self.assertEqual((self.count("integration_events"), self.count("customers")), before)

    def test_api_key(self):
        saved = os.environ.pop("ODOO_API_KEY", None)
        self.addCleanup(lambda: saved is None or os.environ.__setitem__("ODOO_API_KEY", saved))
        # No key configured: every request is refused.
        self.assert_refused(fastepost.NoKeyError, api_key=KEY)
        self.assert_refused(fastepost.NoKeyError, api_key=KEY, expected_keys=[])
        self.assert_refused(fastepost.NoKeyError)
        # A missing, None, empty or wrong key is a 401 AuthError, never a skip.
        self.assert_refused(fastepost.AuthError, expected_keys=[KEY])
        self.assert_refused(fastepost.AuthError, api_key=None, expected_keys=[KEY])
        self.assert_refused(fastepost.AuthError, api_key="", expected_keys=[KEY])
        self.assert_refused(fastepost.AuthError, api_key="wrong", expected_keys=[KEY])
        self.assert_refused(fastepost.AuthError, api_key=KEY + "\0", expected_keys=[KEY])
        with self.assertRaises(fastepost.InvalidError):
            self.conn.odoo_process(partner(), api_key=KEY, expected_keys=[""])
        self.assertEqual(self.count("integration_events"), 0)
        # The right key, one of several while rotating, or from ODOO_API_KEY read at call time.
        self.assertTrue(self.conn.odoo_process(partner(), api_key=KEY, expected_keys=KEY).ok)
        self.assertEqual(self.conn.odoo_process(partner(), api_key="new-key",
                                                expected_keys=[KEY, "new-key"]).outcome, "duplicate")
        os.environ["ODOO_API_KEY"] = "from-env"
        self.assertEqual(self.conn.odoo_process(partner(), api_key="from-env").outcome, "duplicate")
        self.assert_refused(fastepost.AuthError, api_key=KEY)
        del os.environ["ODOO_API_KEY"]
        self.assert_refused(fastepost.NoKeyError, api_key="from-env")
        # The module function, also with a spool: a refused request is never spooled.
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        spool_dir = os.path.join(tmp, "spool")
        with self.assertRaises(fastepost.AuthError):
            fastepost.odoo_process(partner(pid=3), None, api_key="wrong", expected_keys=[KEY], spool=spool_dir)
        self.assertEqual(fastepost.Spool(spool_dir).list(), [])
        self.assertEqual(fastepost.odoo_process(partner(pid=3, email="c@x.de"), self.conn, api_key=KEY,
                                                expected_keys=[KEY]).outcome, "created")
        # The explicit opt-out: the host authenticated the request itself.
        self.assertEqual(self.conn.odoo_process(partner(pid=4, email="d@x.de"), host_authenticated=True).outcome,
                         "created")
        self.assertEqual(self.count("integration_events"), 3)
        self.assertTrue(fastepost.odoo_authenticate("k", "k"))
        with self.assertRaises(fastepost.NoKeyError):
            fastepost.odoo_authenticate(None, "k")
        self.assertEqual([fastepost.status_http(x) for x in (0, fastepost.AuthError.code,
                                                            fastepost.BusyError.code)],
                         [200, 401, 503])

    def test_batch_refuses_each_delivery_without_its_key(self):
        rs = self.conn.odoo_process_batch([partner(pid=1, email="a@x.de"), partner(pid=2, email="b@x.de"),
                                           partner(pid=3, email="c@x.de")],
                                          api_key=[KEY, None, "wrong"], expected_keys=[KEY])
        self.assertEqual([(r.status, r.http_status) for r in rs],
                         [("ok", 200), ("FASTEPOST_EAUTH", 401), ("FASTEPOST_EAUTH", 401)])
        rs = self.conn.odoo_process_batch([partner(pid=5, email="e@x.de")], api_key=KEY, expected_keys=[])
        self.assertEqual(rs[0].status, "FASTEPOST_ENOKEY")
        with self.assertRaises(fastepost.InvalidError):
            self.conn.odoo_process_batch([partner()], api_key=[KEY, KEY], expected_keys=[KEY])
        self.assertEqual(self.count("customers"), 1)

    def test_utf8_round_trip(self):
        name = "Jürgen Müller-Straße 🌟"
        r = self.odoo(partner(name=name, email="jürgen@example.de").encode("utf-8"))
        self.assertTrue(r.ok, r)
        self.assertEqual(self.sql("SELECT name FROM customers"), name)
        with open(os.path.join(FIXTURES, "partner_webhook.json"), "rb") as f:
            r = self.odoo(f.read())
        self.assertEqual(r.outcome, "created")
        self.assertEqual(self.sql(f"SELECT name FROM customers WHERE id = {r.customer_id}"),
                         "Jürgen Müller 🌟")
        ev = self.conn.events(source="odoo", limit=1)[0]
        self.assertEqual(ev.customer_id, r.customer_id)

    def test_batch_events_and_retry(self):
        c = self.conn
        rs = c.odoo_process_batch([partner(pid=1, email="a@x.de"), b"{broken",
                                   partner(pid=2, email="b@x.de")], api_key=KEY, expected_keys=[KEY])
        self.assertIsInstance(rs, fastepost.EventBatch)
        self.assertEqual([r.outcome for r in rs], ["created", None, "created"])
        self.assertEqual([r.status for r in rs], ["ok", "FASTEPOST_EPARSE", "ok"])
        self.assertEqual((len(rs), rs.count, rs.failed, rs.http_status, rs.error), (3, 3, 1, 200, None))
        self.assertEqual([(r.index, r.event_type, r.object_id) for r in rs],
                         [(0, "res.partner", 1), (1, "unknown", None), (2, "res.partner", 2)])
        events = c.events()
        self.assertEqual(len(events), 3)
        self.assertIsInstance(events[0], fastepost.Event)
        self.assertEqual({e.status for e in events}, {"success", "error"})
        self.assertEqual(len(c.events(status="error")), 1)
        self.assertEqual(c.events(source="hubspot"), [])
        self.assertEqual(len(c.events(limit=0)), 3, "0: the library's default limit")
        with self.assertRaises(fastepost.InvalidError):
            c.events(limit=-1)
        self.assertIsInstance(events[0].created_at_us, int)
        self.assertGreater(events[0].created_at_us, 1700000000 * 10**6)
        report = c.events_retry(limit=10)
        self.assertEqual(report.to_dict(),
                         {"status": "ok", "attempted": 0, "succeeded": 0, "failed": 0, "dead": 0})

    def test_results_have_the_keys_and_types_of_the_cli_json(self):
        """Issue 14 item 7: one shape for a result in the CLI's --json and in to_dict()."""
        cli = os.path.join(os.path.dirname(fastepost.__file__), "..", "..", "..", "fastepost")
        if not os.path.exists(cli):
            self.skipTest("the fastepost CLI is not built next to the binding")
        import subprocess
        body = partner(pid=5, email="cli@x.de")
        env = dict(os.environ, ODOO_API_KEY=KEY)

        def run(*args, stdin=None):
            out = subprocess.run([cli, *args, "--db", self.dsn, "--json"], input=stdin, env=env,
                                 capture_output=True, text=True)
            return json.loads(out.stdout)

        def shape(d):
            return {k: type(v).__name__ for k, v in d.items()}

        via_cli = run("odoo", "process", "-", stdin=body)
        via_py = self.odoo(partner(pid=6, email="py@x.de")).to_dict()
        self.assertEqual(shape(via_cli), shape(via_py))
        self.assertEqual(shape(run("events", "retry")), shape(self.conn.events_retry().to_dict()))
        cli_events = run("events", "list")
        py_events = [e.to_dict() for e in self.conn.events()]
        self.assertEqual([shape(e) for e in cli_events], [shape(e) for e in py_events])
        self.assertEqual(cli_events[0]["created_at_us"], py_events[0]["created_at_us"])

    def test_gc_order(self):
        conn = fastepost.connect(self.dsn)
        r = conn.odoo_process(partner(), api_key=KEY, expected_keys=[KEY])
        try:
            conn.odoo_process(b"[", api_key=KEY, expected_keys=[KEY])
        except fastepost.ParseError as e:
            err = e
        del conn
        gc.collect()
        self.assertEqual(r.outcome, "created")
        self.assertEqual(err.result.status, "FASTEPOST_EPARSE")
        del r, err
        gc.collect()

    def test_thread_runs_during_processing(self):
        self.hold_lock("customers", 1)
        ticker = Ticker()
        ticker.start()
        time.sleep(0.05)
        start_ticks = ticker.ticks
        started = time.monotonic()
        r = self.odoo(partner())
        elapsed = time.monotonic() - started
        ticks = ticker.ticks - start_ticks
        ticker.stop.set()
        ticker.join()
        self.assertEqual(r.outcome, "created")
        self.assertGreater(elapsed, 0.4)
        self.assertGreater(ticks, 20, f"only {ticks} ticks in {elapsed:.2f}s")


class HubSpotProcess(DbTestCase):
    SECRET = "hs-secret"
    URI = "https://crm.example.de/api/v1/integrations/hubspot"

    def setUp(self):
        super().setUp()
        self.conn = fastepost.connect(self.dsn)
        self.addCleanup(self.conn.close)
        self.conn.schema_install()

    def request(self, events, **kw):
        body = json.dumps(events).encode("utf-8")
        ts = str(int(time.time() * 1000))
        sig = fastepost.hubspot_sign(self.SECRET, method="POST", uri=self.URI, timestamp=ts, body=body)
        args = dict(secrets=[self.SECRET], uri=self.URI, timestamp=ts, signature=sig)
        args.update(kw)
        return self.conn.hubspot_process(body, **args)

    def test_batch(self):
        now = int(time.time() * 1000)
        events = [{"eventId": 1, "subscriptionId": 5, "portalId": 7, "appId": 9, "occurredAt": now,
                   "subscriptionType": "contact.creation", "objectId": 101, "attemptNumber": 0},
                  {"eventId": 2, "subscriptionId": 6, "portalId": 7, "appId": 9, "occurredAt": now,
                   "subscriptionType": "contact.propertyChange", "objectId": 101,
                   "propertyName": "firstname", "propertyValue": "Jörg", "attemptNumber": 0}]
        b = self.request(events)
        self.assertIsInstance(b, fastepost.HubSpotBatch)
        self.assertEqual((b.http_status, b.status, b.count, b.failed), (200, "ok", 2, 0))
        self.assertEqual([(e.type, e.object_id) for e in b.events],
                         [("contact.creation", 101), ("contact.propertyChange", 101)])
        self.assertEqual(b.to_dict()["events"][0]["event_type"], "contact.creation")
        self.assertEqual(b.to_dict()["events"][1]["index"], 1)
        self.assertEqual(self.request(events).events[0].outcome, "duplicate")

    def test_refusals(self):
        with self.assertRaises(fastepost.AuthError) as ctx:
            self.request([], signature="bogus")
        self.assertEqual((ctx.exception.http_status, ctx.exception.result.http_status), (401, 401))
        with self.assertRaises(fastepost.NoKeyError):
            self.request([], secrets=[])
        # None or "" for the secret or the signature never skips verification, and writes nothing.
        events = [{"eventId": 1, "subscriptionId": 5, "portalId": 7, "appId": 9,
                   "occurredAt": int(time.time() * 1000), "subscriptionType": "contact.creation",
                   "objectId": 101, "attemptNumber": 0}]
        with self.assertRaises(TypeError):
            self.request(events, secrets=None)
        with self.assertRaises(fastepost.InvalidError):
            self.request(events, secrets="")
        with self.assertRaises(fastepost.InvalidError):
            self.request(events, secrets=[""])
        for bad in (dict(signature=None), dict(signature=""), dict(timestamp=None)):
            with self.assertRaises(fastepost.AuthError, msg=str(bad)) as ctx:
                self.request(events, **bad)
            self.assertEqual(ctx.exception.http_status, 401)
        self.assertEqual(self.sql("SELECT count(*) FROM integration_events"), "0")
        body = b"not json"
        ts = str(int(time.time() * 1000))
        sig = fastepost.hubspot_sign(self.SECRET, method="POST", uri=self.URI, timestamp=ts, body=body)
        with self.assertRaises(fastepost.ParseError) as ctx:
            self.conn.hubspot_process(body, [self.SECRET], uri=self.URI, timestamp=ts, signature=sig)
        self.assertEqual(ctx.exception.http_status, 400)
        with self.assertRaises(fastepost.TooBigError) as ctx:
            self.request([{"eventId": i} for i in range(3)], max_events=2)
        self.assertEqual(ctx.exception.http_status, 413)


if __name__ == "__main__":
    unittest.main()
