# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# CRM and database statistics: the figures as Structs with to_h in the shape of the CLI's --json
# (tests/report/shapes.txt), errors, UTF-8, GC.
require_relative "support"
require "set"
require "tmpdir"

class CrmStatsTest < DbTest
  NOW = 1_764_270_000_000_000 # 2025-11-27T19:00:00Z, in microseconds
  TYPES = { NilClass => "null", Integer => "int", Float => "float", String => "str", Array => "list",
            Hash => "dict", TrueClass => "bool", FalseClass => "bool" }.freeze

  # Every path of a to_h with the types seen there, as tests/report/shape.h does.
  def walk(prefix, value, out = Hash.new { |h, k| h[k] = Set.new })
    case value
    when Hash
      value.each do |k, child|
        path = prefix.empty? ? k.to_s : "#{prefix}.#{k}"
        out[path] << TYPES.fetch(child.class)
        walk(path, child, out)
      end
    when Array
      value.each do |child|
        out["#{prefix}[]"] << TYPES.fetch(child.class)
        walk("#{prefix}[]", child, out)
      end
    end
    out
  end

  def shapes(section)
    want = {}
    current = nil
    File.foreach(File.join(ENV.fetch("FASTEPOST_SOURCE_DIR"), "tests", "report", "shapes.txt")) do |line|
      line = line.strip
      if line.start_with?("[")
        current = line[1..-2]
      elsif !line.empty? && !line.start_with?("#") && current == section
        key, types = line.split(" ", 2)
        want[key] = types.split("|").to_set
      end
    end
    want
  end

  def assert_shape(hash, section)
    got = walk("", hash)
    want = shapes(section)
    assert_equal want.keys.sort, got.keys.sort
    got.each { |path, types| assert types.subset?(want[path]), "#{path}: #{types.to_a} not in #{want[path].to_a}" }
  end

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
    s = @conn.crm_stats("https://app.example.com/", now_us: NOW)
    assert_kind_of Fastepost::CrmStats, s
    assert_equal NOW, s.generated_at_us
    assert_equal "2025-11-27T19:00:00.000000Z", s.generated_at
    assert_equal %w[hubspot odoo shopify], s.sources.map(&:source)
    h = s.source(:hubspot)
    assert_equal [2, 2, 1, 1], [h.total_events, h.events_24h, h.success_events, h.error_events]
    assert_in_delta 50.0, h.success_rate
    assert_equal %w[warning yellow], [h.health, h.badge]
    assert_equal NOW - (3 * 60 * 1_000_000), h.last_event_at_us
    assert_equal "contact.deletion", h.last_event_type
    odoo = s.source("odoo")
    assert_nil odoo.success_rate
    assert_equal ["none", "none", 0, 1], [odoo.health, odoo.badge, odoo.events_24h, odoo.pending_events]
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
    assert_equal s, @conn.crm_stats("https://app.example.com", now_us: NOW)
  end

  # crm_metrics is `fastepost stats crm --format prometheus` (docs/metrics.md).
  def test_metrics_are_the_clis
    text = @conn.crm_metrics(sources: ["zoho"])
    assert_includes text, %(fastepost_crm_events{source="hubspot",status="error"} 1\n)
    assert_includes text, %(fastepost_crm_success_ratio{source="hubspot"} 0.500000\n)
    assert_includes text, %(fastepost_crm_events{source="zoho",status="success"} 0\n)
    refute_includes text, "fastepost_spool_entries"
    Dir.mktmpdir do |dir|
      File.chmod(0o700, dir)
      assert_includes @conn.crm_metrics(spool: dir), "fastepost_spool_entries 0\n"
    end
    assert_raises(Fastepost::InvalidError) { @conn.crm_metrics(sources: ["no,such"]) }
  end

  # to_h has the keys and types of `fastepost stats crm --json` / `stats db --json`
  # (tests/db/crm_stats.c and tests/db/stats.c check the CLI against the same file).
  def test_same_shape_as_the_cli_json
    assert_shape(@conn.crm_stats("https://app.example.com", now_us: NOW).to_h, "crm_stats")
    Dir.mktmpdir do |dir|
      File.binwrite(File.join(dir, "backup_20260301_101010.dump"), "bbb")
      h = @conn.db_stats(backups: dir, exact: true).to_h
      assert_shape(h, "stats_db")
      assert_equal({ name: "backup_20260301_101010.dump", size_bytes: 3, created_at: "2026-03-01T10:10:10.000000Z",
                     created_at_us: 1_772_359_810_000_000 }, h[:newest_backup])
    end
    h = @conn.db_stats.to_h
    assert_nil h[:backup_count]
    assert_nil h[:newest_backup]
    assert(h[:tables].all? { |t| t[:rows_exact].nil? })
  end

  def test_paths_only_errors_and_rebuild
    assert_equal "/api/v1/integrations/odoo", @conn.crm_stats.setup.odoo_webhook_url
    assert_raises(Fastepost::InvalidError) { @conn.crm_stats("ftp://x") }
    assert_equal "https://h/in/odoo", @conn.crm_stats("https://h", odoo_path: "/in/odoo").setup.odoo_webhook_url
    assert_raises(Fastepost::InvalidError) { @conn.crm_stats(hubspot_path: "x") }
    assert_raises(ArgumentError) { @conn.crm_stats(now_us: -1) }
    sql("SET session_replication_role = replica; INSERT INTO integration_events (source, event_type) VALUES ('odoo', 'x')")
    @conn.crm_stats_rebuild
    assert_equal 2, @conn.crm_stats(now_us: NOW).source(:odoo).total_events
    sql("DROP TABLE fastepost_event_counts CASCADE")
    assert_raises(Fastepost::VersionError) { @conn.crm_stats }
    assert_equal "3 days ago", Fastepost.time_ago(NOW - (3 * 86_400_000_000), NOW)

  end

  # Issue 15: a card per source with events or configured, each with its set-up.
  def test_configured_sources
    six = %w[odoo hubspot pipedrive monday salesforce zoho]
    Fastepost::Connection.open(@dsn) do |c|
      s = c.crm_stats("https://app.example.com", sources: six)
      six.each do |name|
        src = s.source(name)
        assert src.configured, name
        assert_equal "https://app.example.com/api/v1/integrations/#{name}", src.webhook_url
        refute_empty src.instructions
      end
      assert_equal "Zoho CRM", s.source("zoho").title
      cfg = Fastepost::WebhookConfig.new({ "hubspot" => { "client_secrets" => ["x"] } })
      configured = c.crm_stats(sources: cfg).sources.select(&:configured).map(&:source)
      assert_equal ["hubspot"], configured
      assert_raises(Fastepost::InvalidError) { c.crm_stats(sources: ["acme"]) }
      assert_raises(Fastepost::InvalidError) { c.crm_stats(sources: ["odoo,zoho"]) }
      html = c.report_html(sources: six)
      six.each { |name| assert_includes html, %(id="crm-#{name}") }
      assert_operator html.scan('<div class="card crm"').size, :>=, 6
    end
  end

  def test_result_outlives_connection
    conn = Fastepost.connect(@dsn)
    s = conn.crm_stats(now_us: NOW)
    conn = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal 1, s.source("shopify").total_events
    sources = s.sources
    s = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal "hubspot", sources[0].source
  end
end
