# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Connection#webhook_process: every CRM through one entry (issue 15), with WebhookConfig,
# WebhookResponse and the failures that must close (no config, no section, wrong credentials).
require_relative "support"
require_relative "webhook_fixtures"
require "json"
require "tmpdir"

class TestWebhookProcess < DbTest
  FX = WebhookFixtures
  CLI_KEYS = %i[status http_status response events error].freeze
  CLI_EVENT_KEYS = %i[index event_id outcome customer_id remark_id external_id error].freeze

  def setup
    super
    @conn = Fastepost::Connection.new(@dsn)
    @conn.schema_install
  end

  def teardown
    @conn&.close
    super
  end

  def written = sql("SELECT (SELECT count(*) FROM integration_events) + (SELECT count(*) FROM customers)").to_i

  def process(req, config, **kw)
    @conn.webhook_process(req.source, req.body, headers: req.headers, url: req.url, config: config, **kw)
  end

  def test_sources
    assert_equal FX::SOURCES, Fastepost.webhook_sources
  end

  def test_config
    cfg = Fastepost::WebhookConfig.new({ "odoo" => { "api_keys" => ["k1"] }, "hubspot" => { "client_secrets" => ["s3cr3t"] } })
    assert cfg.source?("odoo")
    refute cfg.source?("zoho")
    refute cfg.source?("nope")
    assert_equal %w[odoo hubspot], cfg.sources
    refute_includes cfg.inspect, "s3cr3t"
    assert_equal [], Fastepost::WebhookConfig.new.sources
    ['{"odoo": ', "[]", '{"acme": {}}'].each do |bad|
      assert_raises(Fastepost::InvalidError, bad) { Fastepost::WebhookConfig.new(bad) }
    end
    e = assert_raises(Fastepost::InvalidError) do
      Fastepost::WebhookConfig.new({ "odoo" => { "api_keys" => ["k"], "surprise" => "very-secret-value" } })
    end
    assert_includes e.message, "surprise"
    refute_includes e.message, "very-secret-value"
    assert_raises(TypeError) { Fastepost::WebhookConfig.new(42) }
    Dir.mktmpdir do |d|
      File.write(File.join(d, "c.json"), '{"odoo": {"api_keys": ["k"]}}')
      assert_equal ["odoo"], Fastepost::WebhookConfig.from_file(File.join(d, "c.json")).sources
    end
  end

  def test_no_config_fails_closed
    have, = FX.available
    have.each do |req|
      other = req.source == "odoo" ? { "hubspot" => { "client_secrets" => ["x"] } } : { "odoo" => { "api_keys" => ["k"] } }
      [nil, {}, other].each do |config|
        r = process(req, config)
        assert_equal 401, r.http_status, "#{req.source} #{config.inspect}: #{r.to_h}"
        refute r.ok?
        assert_includes %w[FASTEPOST_ENOKEY FASTEPOST_EAUTH], r.status
        assert_empty r.events
      end
    end
    assert_equal 0, written, "a refused request writes nothing"
  end

  def test_odoo_and_hubspot
    [FX.odoo, FX.hubspot].each do |req|
      cfg = Fastepost::WebhookConfig.new(req.config)
      r = process(req, cfg)
      assert_kind_of Fastepost::WebhookResponse, r
      assert_equal [200, "ok", 0, true, nil], [r.http_status, r.status, r.code, r.ok?, r.error], r.to_h.inspect
      assert_includes r.content_type, "application/json"
      assert_equal Encoding::BINARY, r.body.encoding
      assert_equal "ok", JSON.parse(r.body)["status"]
      refute r.spooled?
      refute r.handshake?
      assert_equal "created", r.events[0].outcome
      assert_operator r.events[0].customer_id, :>, 0
      refute_nil r.events[0].external_id
      assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = '#{req.expect}'")
      assert_equal "duplicate", process(req, cfg).events[0].outcome
      before = written
      r = process(req, req.wrong_config)
      assert_equal 401, r.http_status
      assert_equal before, written
      e = assert_raises(Fastepost::AuthError) { r.raise_for_status! }
      assert_same r, e.result
      status, headers, body = r.to_rack
      assert_equal [401, r.content_type, r.body], [status, headers["content-type"], body.first]
    end
  end

  def test_to_h_has_the_cli_keys
    req = FX.odoo
    h = process(req, req.config).to_h
    assert_equal CLI_KEYS.sort, h.keys.sort
    assert_equal %i[body content_type], h[:response].keys.sort
    assert_equal CLI_EVENT_KEYS.sort, h[:events][0].keys.sort
    assert_equal req.expect, h[:events][0][:external_id]
    JSON.generate(h)
  end

  def test_every_source
    have, missing = FX.available
    have.each do |req|
      before = written
      if (wrong = req.wrong_config)
        r = process(req, wrong)
        assert_includes [400, 401], r.http_status, "#{req.source}: #{r.to_h}"
        assert_equal before, written, "#{req.source}: a refused request wrote"
      end
      r = process(req, Fastepost::WebhookConfig.new(req.config))
      assert r.ok?, "#{req.source}: #{r.to_h}"
      refute_empty r.body
      assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = '#{req.expect}'"),
                   "#{req.source}: no customer #{req.expect}"
    end
    assert_empty missing, "sources without tests/fixtures/<source>/ok.* (their adapters'): #{missing.join(", ")}"
  end

  def test_monday_challenge
    config, body = FX.challenge
    r = @conn.webhook_process("monday", body, headers: { "Content-Type" => "application/json" }, config: config)
    assert_equal 200, r.http_status, r.to_h.inspect
    assert r.handshake?
    assert_equal JSON.parse(body), JSON.parse(r.body)
    assert_equal 0, written
  end

  def test_spool_without_connection
    Dir.mktmpdir do |dir|
      req = FX.odoo
      cfg = Fastepost::WebhookConfig.new(req.config, spool: File.join(dir, "spool"))
      r = Fastepost.webhook_process("odoo", req.body, headers: req.headers, config: cfg, url: req.url)
      assert_equal 202, r.http_status, r.to_h.inspect
      assert r.spooled?
      assert_equal 1, cfg.spool.list.size
      r = Fastepost.webhook_process("odoo", req.body, headers: { "X-Odoo-Api-Key" => "bad" }, config: cfg)
      assert_equal 401, r.http_status
      assert_equal 1, cfg.spool.list.size, "a refused request is never spooled"
      assert_raises(Fastepost::InvalidError) do
        Fastepost.webhook_process("odoo", req.body, headers: req.headers, config: req.config)
      end
      assert_raises(Fastepost::InvalidError) { @conn.webhook_process("odoo", req.body, config: cfg, spool: dir) }
    end
  end

  # Every source's ok delivery spooled without a connection, then replayed with its
  # WebhookConfig: the customer exists, as if delivered live. Retry takes the config too.
  def test_spool_replay_and_retry_with_the_config
    have, = FX.available
    Dir.mktmpdir do |dir|
      have.each do |req|
        cfg = Fastepost::WebhookConfig.new(req.config, spool: File.join(dir, "spool-#{req.source}"))
        r = Fastepost.webhook_process(req.source, req.body, headers: req.headers, config: cfg, url: req.url)
        assert r.spooled?, "#{req.source}: #{r.to_h}" # 202; Salesforce acks with 200
        report = cfg.spool.replay(@conn, config: cfg)
        assert_equal [1, 0], [report.replayed, report.rejected], req.source
        assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = '#{req.expect}'"), req.source
        assert_empty cfg.spool.list
      end
      cfg = Fastepost::WebhookConfig.new(have.first.config)
      assert_equal 0, @conn.events_retry(config: cfg).attempted
      assert_raises(TypeError) { @conn.events_retry(config: have.first.config) }
      assert_raises(TypeError) { Fastepost::Spool.new(File.join(dir, "s")).replay(@conn, config: "{}") }
    end
  end

  def test_caller_mistakes
    req = FX.odoo
    assert_raises(TypeError) { @conn.webhook_process("odoo", req.body, headers: { "X-Odoo-Api-Key" => 5 }, config: req.config) }
    assert_raises(TypeError) { @conn.webhook_process(nil, req.body, config: req.config) }
    assert_raises(Fastepost::InvalidError) do
      @conn.webhook_process("odoo", req.body, headers: { "X-Odoo-Api-Key" => "a\0b" }, config: req.config)
    end
    r = @conn.webhook_process("acme", req.body, config: req.config)
    assert_equal [400, "FASTEPOST_EINVALID"], [r.http_status, r.status]
    r = @conn.webhook_process(:odoo, req.body, config: req.config, headers: [["x-odoo-api-key", FX::ODOO_KEY], ["X-Other", nil]])
    assert_equal 200, r.http_status, r.to_h.inspect
    r = @conn.webhook_process("odoo", '{"_model": "res.partner", ', config: req.config, headers: req.headers)
    assert_equal 400, r.http_status
  end

  def test_gc_any_order
    req = FX.odoo
    conn = Fastepost::Connection.new(@dsn)
    cfg = Fastepost::WebhookConfig.new(req.config)
    r = conn.webhook_process("odoo", req.body, headers: req.headers, config: cfg)
    conn.close
    conn = cfg = nil
    GC.start
    assert_equal "ok", r.to_h[:status]
    assert_nil conn
    assert_nil cfg
  end
end
