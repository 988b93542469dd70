"""CRM statistics: the figures as objects with attributes and to_dict(), errors, UTF-8, GC."""

import gc
import unittest

import fastepost
from support import DbTestCase

NOW = 1764270000000  # 2025-11-27T19:00:00Z


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
        s = self.conn.crm_stats("https://app.example.com/", now_ms=NOW)
        self.assertIsInstance(s, fastepost.CrmStats)
        self.assertEqual(s.generated_at_ms, NOW)
        self.assertTrue(s.generated_at.startswith("2025-11-27T19:00:00"))
        self.assertEqual([x.source for x in s.sources], ["hubspot", "odoo", "shopify"])
        h = s.source("hubspot")
        self.assertEqual((h.total_events, h.events_24h, h.success_events, h.error_events),
                         (2, 2, 1, 1))
        self.assertEqual(h.success_rate, 50.0)
        self.assertEqual(h.badge, "yellow")
        self.assertEqual(h.last_event_type, "contact.deletion")
        odoo = s.source("odoo")
        self.assertIsNone(odoo.success_rate)
        self.assertEqual((odoo.badge, odoo.events_24h, odoo.pending_events), ("none", 0, 1))
        self.assertIsNone(s.source("nope"))
        self.assertEqual((s.sync.total_customers, s.sync.synced_customers), (2, 1))
        self.assertTrue(s.sync.last_sync_at.startswith("2025-11-27T17:00"))
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
        self.assertEqual(s, self.conn.crm_stats("https://app.example.com", now_ms=NOW))

    def test_paths_only_and_server_clock(self):
        s = self.conn.crm_stats()
        self.assertEqual(s.setup.odoo_webhook_url, "/api/v1/integrations/odoo")
        self.assertGreater(s.generated_at_ms, NOW)

    def test_errors_and_rebuild(self):
        with self.assertRaises(fastepost.InvalidError):
            self.conn.crm_stats("ftp://x")
        self.sql("SET session_replication_role = replica; "
                 "INSERT INTO integration_events (source, event_type) VALUES ('odoo', 'x')")
        self.conn.crm_stats_rebuild()
        self.assertEqual(self.conn.crm_stats(now_ms=NOW).source("odoo").total_events, 2)
        self.sql("DROP TABLE fastepost_event_counts CASCADE")
        with self.assertRaises(fastepost.VersionError):
            self.conn.crm_stats()

    def test_time_ago(self):
        self.assertEqual(fastepost.time_ago(NOW - 3 * 86400000, NOW), "3 days ago")

    def test_result_outlives_connection(self):
        conn = fastepost.connect(self.dsn)
        s = conn.crm_stats(now_ms=NOW)
        del conn
        gc.collect()
        self.assertEqual(s.source("shopify").total_events, 1)
        sources = s.sources
        del s
        gc.collect()
        self.assertEqual(sources[0].source, "hubspot")


if __name__ == "__main__":
    unittest.main()
