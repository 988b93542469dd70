# frozen_string_literal: true

# CRM statistics: the figures as Structs with to_h, errors, UTF-8, GC.
require_relative "support"

class CrmStatsTest < DbTest
  NOW = 1_764_270_000_000 # 2025-11-27T19:00:00Z

  def setup
    super
    @conn = Fastepost.connect(@dsn)
    @conn.schema_install
    sql("INSERT INTO integration_events (source, event_type, status, error_message, created_at) " \
        "VALUES ('hubspot', 'contact.creation', 'success', NULL, '2025-11-27 18:00'), " \
        "('hubspot', 'contact.deletion', 'error', 'Kundë fehlt ✗', '2025-11-27 18:57'), " \
        "('odoo', 'res.partner', 'pending', NULL, '2025-11-20 10:00'), " \
        "('shopify', 'order', 'success', NULL, '2025-11-27 18:59:30')")
    sql("INSERT INTO customers (name, crm_id, last_synced_at) VALUES ('A', 'h1', '2025-11-27 17:00'), ('B', NULL, NULL)")
  end

  def teardown
    @conn.close
    super
  end

  def test_figures
    s = @conn.crm_stats("https://app.example.com/", now_ms: NOW)
    assert_kind_of Fastepost::CrmStats, s
    assert_equal NOW, s.generated_at_ms
    assert s.generated_at.start_with?("2025-11-27T19:00:00")
    assert_equal %w[hubspot odoo shopify], s.sources.map(&:source)
    h = s.source(:hubspot)
    assert_equal [2, 2, 1, 1], [h.total_events, h.events_24h, h.success_events, h.error_events]
    assert_in_delta 50.0, h.success_rate
    assert_equal "yellow", h.badge
    assert_equal "contact.deletion", h.last_event_type
    odoo = s.source("odoo")
    assert_nil odoo.success_rate
    assert_equal ["none", 0, 1], [odoo.badge, odoo.events_24h, odoo.pending_events]
    assert_nil s.source("nope")
    assert_equal [2, 1], [s.sync.total_customers, s.sync.synced_customers]
    assert_equal %w[shopify hubspot hubspot odoo], s.recent.map(&:source)
    assert_equal "just now", s.recent[0].time_ago
    assert_equal "Kundë fehlt ✗", s.recent[1].error
    assert_equal Encoding::UTF_8, s.recent[1].error.encoding
    assert_equal "3 minutes ago", s.recent[1].time_ago
    assert_equal "https://app.example.com/api/v1/integrations/odoo", s.setup.odoo_webhook_url
    h = s.to_h
    assert_equal "hubspot", h[:sources][0][:source]
    assert_equal 1, h[:sync][:synced_customers]
    assert_equal s, @conn.crm_stats("https://app.example.com", now_ms: NOW)
  end

  def test_paths_only_errors_and_rebuild
    assert_equal "/api/v1/integrations/odoo", @conn.crm_stats.setup.odoo_webhook_url
    assert_raises(Fastepost::InvalidError) { @conn.crm_stats("ftp://x") }
    sql("SET session_replication_role = replica; INSERT INTO integration_events (source, event_type) VALUES ('odoo', 'x')")
    @conn.crm_stats_rebuild
    assert_equal 2, @conn.crm_stats(now_ms: NOW).source(:odoo).total_events
    sql("DROP TABLE fastepost_event_counts CASCADE")
    assert_raises(Fastepost::VersionError) { @conn.crm_stats }
    assert_equal "3 days ago", Fastepost.time_ago(NOW - (3 * 86_400_000), NOW)
  end

  def test_result_outlives_connection
    conn = Fastepost.connect(@dsn)
    s = conn.crm_stats(now_ms: NOW)
    conn = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal 1, s.source("shopify").total_events
    sources = s.sources
    s = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal "hubspot", sources[0].source
  end
end
