# SPDX-License-Identifier: MIT
"""CRM and database statistics: the figures as objects with attributes and to_dict() in the
shape of the CLI's --json (tests/report/shapes.txt), errors, UTF-8, GC."""

import gc
import os
import subprocess
import tempfile
import unittest

import fastepost
from support import DbTestCase

NOW = 1764270000000000  # 2025-11-27T19:00:00Z, in microseconds


def _type_name(v):
    if v is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}[type(v)]


def _walk(prefix, v, out):
    """Every path of a to_dict() with the types seen there, as tests/report/shape.h does."""
    if isinstance(v, dict):
        for k, child in v.items():
            path = f"{prefix}.{k}" if prefix else k
            out.setdefault(path, set()).add(_type_name(child))
            _walk(path, child, out)
    elif isinstance(v, list):
        for child in v:
            out.setdefault(prefix + "[]", set()).add(_type_name(child))
            _walk(prefix + "[]", child, out)
    return out


def _shapes(section):
    path = os.path.join(os.environ["FASTEPOST_SOURCE_DIR"], "tests", "report", "shapes.txt")
    want, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                current = line[1:-1]
            elif line and not line.startswith("#") and current == section:
                key, types = line.split(" ", 1)
                want[key] = set(types.split("|"))
    return want


class CrmStats(DbTestCase):
    def setUp(self):
        super().setUp()
        self.conn = fastepost.connect(self.dsn)
        self.conn.schema_install()
        self.addCleanup(self.conn.close)
        self.sql(
            "INSERT INTO integration_events (source, event_type, status, error_message, created_at) "
            "VALUES ('hubspot', 'contact.creation', 'success', NULL, '2025-11-27 18:00'),"
            "       ('hubspot', 'contact.deletion', 'error', 'Kundë fehlt ✗', '2025-11-27 18:57'),"
            "       ('odoo', 'res.partner', 'pending', NULL, '2025-11-20 10:00'),"
            "       ('shopify', 'order', 'success', NULL, '2025-11-27 18:59:30')")
        self.sql("INSERT INTO customers (name, crm_id, last_synced_at) VALUES "
                 "('A', 'h1', '2025-11-27 17:00'), ('B', NULL, NULL)")

    def tearDown(self):
        gc.collect()
        super().tearDown()

    def test_figures(self):
        s = self.conn.crm_stats("https://app.example.com/", now_us=NOW)
        self.assertIsInstance(s, fastepost.CrmStats)
        self.assertEqual(s.generated_at_us, NOW)
        self.assertEqual(s.generated_at, "2025-11-27T19:00:00.000000Z")
        self.assertEqual([x.source for x in s.sources], ["hubspot", "odoo", "shopify"])
        h = s.source("hubspot")
        self.assertEqual((h.total_events, h.events_24h, h.success_events, h.error_events),
                         (2, 2, 1, 1))
        self.assertEqual(h.success_rate, 50.0)
        self.assertEqual((h.health, h.badge), ("warning", "yellow"))
        self.assertEqual(h.last_event_at, "2025-11-27T18:57:00.000000Z")
        self.assertEqual(h.last_event_at_us, NOW - 3 * 60 * 1000000)
        self.assertEqual(h.last_event_type, "contact.deletion")
        odoo = s.source("odoo")
        self.assertIsNone(odoo.success_rate)
        self.assertEqual((odoo.health, odoo.badge, odoo.events_24h, odoo.pending_events),
                         ("none", "none", 0, 1))
        self.assertIsNone(s.source("nope"))
        self.assertEqual((s.sync.total_customers, s.sync.synced_customers), (2, 1))
        self.assertEqual(s.sync.last_sync_at, "2025-11-27T17:00:00.000000Z")
        self.assertEqual(s.sync.last_sync_at_us, NOW - 2 * 3600 * 1000000)
        self.assertEqual([e.source for e in s.recent], ["shopify", "hubspot", "hubspot", "odoo"])
        self.assertEqual(s.recent[0].time_ago, "just now")
        self.assertEqual(s.recent[1].error, "Kundë fehlt ✗")
        self.assertEqual(s.recent[1].time_ago, "3 minutes ago")
        self.assertEqual(s.setup.odoo_webhook_url,
                         "https://app.example.com/api/v1/integrations/odoo")
        self.assertEqual(s.setup.hubspot_signature_header, "X-HubSpot-Signature-v3")
        d = s.to_dict()
        self.assertEqual(d["sources"][0]["source"], "hubspot")
        self.assertEqual(d["sync"]["synced_customers"], 1)
        self.assertEqual(d["recent"][1]["error"], "Kundë fehlt ✗")
        self.assertEqual(s, self.conn.crm_stats("https://app.example.com", now_us=NOW))

    def test_paths_only_and_server_clock(self):
        s = self.conn.crm_stats()
        self.assertEqual(s.setup.odoo_webhook_url, "/api/v1/integrations/odoo")
        self.assertGreater(s.generated_at_us, NOW)
        s = self.conn.crm_stats("https://h", odoo_path="/in/odoo", hubspot_path="/in/hubspot", now_us=NOW)
        self.assertEqual((s.setup.odoo_webhook_url, s.setup.hubspot_webhook_url),
                         ("https://h/in/odoo", "https://h/in/hubspot"))
        with self.assertRaises(fastepost.InvalidError):
            self.conn.crm_stats(odoo_path="no-slash")
        with self.assertRaises(ValueError):
            self.conn.crm_stats(now_us=-5)

    def test_metrics_are_the_clis(self):
        """crm_metrics() is `fastepost stats crm --format prometheus` (docs/metrics.md)."""
        text = self.conn.crm_metrics(sources=["zoho"])
        self.assertIn('fastepost_crm_events{source="hubspot",status="error"} 1\n', text)
        self.assertIn('fastepost_crm_success_ratio{source="hubspot"} 0.500000\n', text)
        self.assertIn('fastepost_crm_events{source="zoho",status="success"} 0\n', text)
        self.assertNotIn("fastepost_spool_entries", text)
        cli = subprocess.run([os.environ["FASTEPOST_CLI"], "--db", self.dsn, "stats", "crm", "--format",
                              "prometheus", "--source", "zoho"], check=True, capture_output=True, text=True)
        # The CLI's time is later: the families and series are the same, the values but one too.
        strip = lambda t: [l for l in t.splitlines() if "seconds_since_last_event{" not in l]
        self.assertEqual(strip(cli.stdout), strip(text))
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o700)
            self.assertIn("fastepost_spool_entries 0\n", self.conn.crm_metrics(spool=tmp))
        with self.assertRaises(fastepost.InvalidError):
            self.conn.crm_metrics(sources=["no,such"])

    def test_same_shape_as_the_cli_json(self):
        """to_dict() has the keys and types of `fastepost stats crm --json` / `stats db --json`
        (tests/db/crm_stats.c and tests/db/stats.c check the CLI against the same file)."""
        d = self.conn.crm_stats("https://app.example.com", now_us=NOW).to_dict()
        got, want = _walk("", d, {}), _shapes("crm_stats")
        self.assertEqual(set(got), set(want))
        for path, types in got.items():
            self.assertLessEqual(types, want[path], path)
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "backup_20260301_101010.dump"), "wb") as f:
                f.write(b"bbb")
            stats = self.conn.db_stats(tmp, exact=True)
        d = stats.to_dict()
        got, want = _walk("", d, {}), _shapes("stats_db")
        self.assertEqual(set(got), set(want))
        for path, types in got.items():
            self.assertLessEqual(types, want[path], path)
        self.assertEqual(d["newest_backup"], {"name": "backup_20260301_101010.dump", "size_bytes": 3,
                                              "created_at": "2026-03-01T10:10:10.000000Z",
                                              "created_at_us": 1772359810000000})
        self.assertEqual(d["backup_count"], 1)
        # Unknown is None, never -1.
        d = self.conn.db_stats().to_dict()
        self.assertIsNone(d["backup_count"])
        self.assertIsNone(d["newest_backup"])
        self.assertTrue(all(t["rows_exact"] is None for t in d["tables"]))

    def test_errors_and_rebuild(self):
        with self.assertRaises(fastepost.InvalidError):
            self.conn.crm_stats("ftp://x")
        self.sql("SET session_replication_role = replica; "
                 "INSERT INTO integration_events (source, event_type) VALUES ('odoo', 'x')")
        self.conn.crm_stats_rebuild()
        self.assertEqual(self.conn.crm_stats(now_us=NOW).source("odoo").total_events, 2)
        self.sql("DROP TABLE fastepost_event_counts CASCADE")
        with self.assertRaises(fastepost.VersionError):
            self.conn.crm_stats()

    def test_configured_sources(self):
        """Issue 15: a card per source with events or configured, each with its set-up."""
        six = ["odoo", "hubspot", "pipedrive", "monday", "salesforce", "zoho"]
        s = self.conn.crm_stats("https://app.example.com", sources=six)
        by_name = {x.source: x for x in s.sources}
        self.assertEqual(set(by_name), set(six) | {"shopify"}, "the six and shopify (events)")
        for name in six:
            src = by_name[name]
            self.assertTrue(src.configured, name)
            self.assertEqual(src.webhook_url, f"https://app.example.com/api/v1/integrations/{name}")
            self.assertTrue(src.instructions)
            self.assertTrue(src.title)
        self.assertEqual(by_name["monday"].title, "monday.com")
        self.assertFalse(by_name["shopify"].configured)
        self.assertEqual((by_name["shopify"].webhook_url, by_name["shopify"].instructions), ("", ""))
        # From a WebhookConfig: the sources it has a section for.
        cfg = fastepost.WebhookConfig({"hubspot": {"client_secrets": ["x"]}})
        names = [x.source for x in self.conn.crm_stats(sources=cfg).sources]
        self.assertEqual(names, ["hubspot", "odoo", "shopify"], "odoo has events, not configured")
        self.assertFalse(self.conn.crm_stats(sources=cfg).sources[1].configured)
        # None or empty: the 1.0 default pair.
        for default in (None, []):
            d = {x.source: x.configured for x in self.conn.crm_stats(sources=default).sources}
            self.assertEqual(d, {"hubspot": True, "odoo": True, "shopify": False})
        for bad in (["acme"], ["odoo,zoho"], [""], [3]):
            with self.subTest(bad), self.assertRaises(fastepost.InvalidError):
                self.conn.crm_stats(sources=bad)
        html = self.conn.report_html(sources=six)
        self.assertEqual(html.count('<div class="card crm"'), 7)
        for name in six:
            self.assertIn(f'id="crm-{name}"', html)
            self.assertIn(f"<code>/api/v1/integrations/{name}</code><br>", html)

    def test_time_ago(self):
        self.assertEqual(fastepost.time_ago(NOW - 3 * 86400 * 1000000, NOW), "3 days ago")
        self.assertEqual(fastepost.core.report_time_iso(NOW), "2025-11-27T19:00:00.000000Z")
        self.assertEqual(fastepost.core.report_badge_colour(fastepost.core.CRM_STATS_HEALTH_GOOD), "green")
        self.assertEqual(fastepost.core.crm_stats_health_name(fastepost.core.CRM_STATS_HEALTH_WARNING),
                         "warning")

    def test_result_outlives_connection(self):
        conn = fastepost.connect(self.dsn)
        s = conn.crm_stats(now_us=NOW)
        del conn
        gc.collect()
        self.assertEqual(s.source("shopify").total_events, 1)
        sources = s.sources
        del s
        gc.collect()
        self.assertEqual(sources[0].source, "hubspot")


if __name__ == "__main__":
    unittest.main()
