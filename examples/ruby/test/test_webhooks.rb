# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The Rack example over real HTTP: server.rb runs in a child process on a free port of
# 127.0.0.1, requests go through Net::HTTP, and the database is checked with psql afterwards.
# Uses the bindings' test support (a fresh database per test, FASTEPOST_TEST_DSN).
require "support"
require "net/http"
require "json"
require "tmpdir"
require "fileutils"

class TestRackWebhooks < DbTest
  DATA = File.expand_path("../../data", __dir__)
  SERVER = File.expand_path("../server.rb", __dir__)
  KEY = "odoo-test-key"
  SECRET = "hubspot-client-secret"
  ODOO = "/api/v1/integrations/odoo"
  HUBSPOT = "/api/v1/integrations/hubspot"

  def setup
    super
    Fastepost::Connection.open(@dsn, &:schema_install)
    @servers = []
    @tmp = Dir.mktmpdir
    @spool_dir = File.join(@tmp, "spool")
  end

  def teardown
    @servers.each do |pid, out|
      Process.kill("TERM", pid)
      Process.wait(pid)
      out.close
    end
    FileUtils.rm_rf(@tmp)
    super
  end

  # Start server.rb with this environment; returns its base URL once it listens.
  def start_server(env = {})
    out, child_out = IO.pipe
    env = { "DATABASE_URL" => @dsn, "RUBYLIB" => $LOAD_PATH.join(File::PATH_SEPARATOR),
            "ODOO_API_KEY" => nil, "HUBSPOT_CLIENT_SECRET" => nil, "FASTEPOST_SPOOL_DIR" => @spool_dir }.merge(env)
    pid = spawn(env, RbConfig.ruby, SERVER, "--port", "0", out: child_out)
    child_out.close
    @servers << [pid, out]
    line = out.gets or flunk "server.rb exited before listening"
    line[%r{listening on (http://\S+)}, 1]
  end

  def post(base, path, body, headers = {})
    uri = URI(base + path)
    Net::HTTP.start(uri.host, uri.port, read_timeout: 30) do |http|
      req = Net::HTTP::Post.new(uri, { "Content-Type" => "application/json" }.merge(headers))
      req.body = body
      res = http.request(req)
      [res.code.to_i, JSON.parse(res.body)]
    end
  end

  def odoo_body(name) = File.binread(File.join(DATA, "odoo", name))

  def test_odoo_deliveries
    base = start_server("ODOO_API_KEY" => KEY)
    created = odoo_body("01_partner_created.json")

    status, json = post(base, ODOO, created, "X-Odoo-Api-Key" => KEY)
    assert_equal 200, status, json.inspect
    assert_equal "created", json["outcome"].to_s
    assert_equal 200, json["http_status"]

    status, json = post(base, "#{ODOO}?api_key=#{KEY}", created) # the key in the query, again
    assert_equal 200, status, json.inspect
    assert_equal "duplicate", json["outcome"].to_s

    status, json = post(base, ODOO, odoo_body("02_partner_phone_changed.json"), "X-Odoo-Api-Key" => "wrong")
    assert_equal 401, status
    assert_equal "AuthError", json["error"]
    assert_equal 401, post(base, ODOO, created)[0], "no key presented"

    status, json = post(base, ODOO, odoo_body("06_truncated.json"), "X-Odoo-Api-Key" => KEY)
    assert_equal 400, status
    assert_equal "ParseError", json["error"]

    huge = %({"_model": "res.partner", "id": 7, "name": "#{"x" * (1024 * 1024)}"})
    status, json = post(base, ODOO, huge, "X-Odoo-Api-Key" => KEY)
    assert_equal 413, status
    assert_equal "TooBigError", json["error"]

    status, = post(base, "#{ODOO}?event=unlink&api_key=#{KEY}", odoo_body("02_partner_phone_changed.json"))
    assert_equal 200, status

    assert_equal "1", sql("SELECT count(*) FROM customers")
    assert_equal "f", sql("SELECT active FROM customers WHERE crm_id = 'res.partner:42'"), "?event=unlink deactivates"
    assert_equal "2", sql("SELECT count(*) FROM integration_events WHERE source = 'odoo' AND status <> 'error'")
    assert_operator sql("SELECT count(*) FROM integration_events WHERE status = 'error'").to_i, :>=, 1,
                    "the malformed delivery is logged"
  end

  # Item 1 of issue 11: the key is checked by processing itself; nil/empty never skip it.
  def test_odoo_authentication
    base = start_server("ODOO_API_KEY" => "old-key, #{KEY}") # rotating: both accepted
    created = odoo_body("01_partner_created.json")
    refused = {
      "no key" => [ODOO, {}],
      "empty ?api_key=" => ["#{ODOO}?api_key=", {}],
      "empty header" => [ODOO, { "X-Odoo-Api-Key" => "" }],
      "empty header, right key in the query" => ["#{ODOO}?api_key=#{KEY}", { "X-Odoo-Api-Key" => "" }],
      "wrong key" => [ODOO, { "X-Odoo-Api-Key" => "wrong-key-123" }],
      "wrong key in the query" => ["#{ODOO}?api_key=wrong-key-123", {}]
    }
    refused.each do |what, (path, headers)|
      status, json = post(base, path, created, headers)
      assert_equal 401, status, "#{what}: #{json.inspect}"
      assert_equal "AuthError", json["error"], what
      refute_match(/#{KEY}|old-key|wrong-key-123/, JSON.generate(json), "#{what}: no key in the answer")
    end
    assert_equal "0", sql("SELECT count(*) FROM integration_events"), "a refused delivery writes nothing"
    assert_equal "0", sql("SELECT count(*) FROM customers")

    status, json = post(base, ODOO, created, "X-Odoo-Api-Key" => KEY)
    assert_equal 200, status, json.inspect
    assert_equal "created", json["outcome"].to_s
    status, json = post(base, "#{ODOO}?api_key=old-key", odoo_body("02_partner_phone_changed.json"))
    assert_equal 200, status, json.inspect
    assert_equal "updated", json["outcome"].to_s
    assert_equal "2", sql("SELECT count(*) FROM integration_events")
    assert_equal "1", sql("SELECT count(*) FROM customers")
  end

  def test_odoo_spooled_while_the_database_is_unreachable
    # A server whose database cannot be reached: a socket directory that does not exist.
    base = start_server("ODOO_API_KEY" => KEY, "DATABASE_URL" => "host=#{@tmp}/nosocket dbname=x connect_timeout=2")
    status, body = post(base, ODOO, odoo_body("01_partner_created.json"), "X-Odoo-Api-Key" => KEY)
    assert_equal 202, status, body.inspect
    assert_equal "spooled", body["outcome"]
    assert_equal 401, post(base, ODOO, "{}", "X-Odoo-Api-Key" => "wrong").first
    spool = Fastepost::Spool.new(@spool_dir)
    assert_equal 1, spool.list.size
    assert_equal "0", sql("SELECT count(*) FROM customers")
    # The cron job's `fastepost spool replay`, here through the binding.
    assert_equal 1, Fastepost::Connection.open(@dsn) { |conn| spool.replay(conn).replayed }
    assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:42'")
    assert_empty spool.list
  end

  def test_odoo_without_configured_key
    base = start_server
    status, json = post(base, ODOO, odoo_body("01_partner_created.json"), "X-Odoo-Api-Key" => KEY)
    assert_equal 401, status
    assert_equal "NoKeyError", json["error"]
    assert_equal 401, post(base, "#{ODOO}?api_key=", odoo_body("01_partner_created.json"))[0], "none configured, none presented"
    assert_equal "0", sql("SELECT count(*) FROM customers")
    assert_equal "0", sql("SELECT count(*) FROM integration_events")
  end

  # Issue 13 item 3: more concurrent requests than the pool has connections; every one is
  # served (they wait for a free connection) and the server never opens more than the pool size.
  def test_concurrent_requests_share_a_bounded_pool
    base = start_server("ODOO_API_KEY" => KEY, "FASTEPOST_POOL" => "2", "FASTEPOST_POOL_TIMEOUT" => "20")
    template = JSON.parse(odoo_body("01_partner_created.json"))
    bodies = (1..12).map do |i|
      JSON.generate(template.merge("id" => 1000 + i, "_id" => 1000 + i, "email" => "pool#{i}@example.com",
                                   "mobile" => "+49 170 100#{format("%04d", i)}"))
    end
    gate = Queue.new
    threads = bodies.map do |body|
      Thread.new do
        gate.pop # all threads start together
        post(base, ODOO, body, "X-Odoo-Api-Key" => KEY)
      end
    end
    bodies.size.times { gate << true }
    answers = threads.map(&:value)
    assert_equal [200] * bodies.size, answers.map(&:first), answers.inspect
    assert_equal %w[created], answers.map { |_, json| json["outcome"] }.uniq
    assert_equal bodies.size.to_s, sql("SELECT count(*) FROM customers")
    assert_operator sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() " \
                        "AND pid <> pg_backend_pid()").to_i, :<=, 2, "at most FASTEPOST_POOL connections"
  end

  # A request that finds no connection free within the pool's timeout is answered 503
  # (PoolTimeout), so the sender delivers again. The pool's only connection is held here.
  def test_pool_timeout_answers_503
    require_relative "../webhooks"
    require "rack/mock"
    pool = Fastepost::Pool.new(@dsn, size: 1, timeout: 0.2)
    app = FastepostExample::WebhookApp.new(pool: pool, odoo_api_keys: [KEY])
    res = pool.with do
      Rack::MockRequest.new(app).post(ODOO, input: odoo_body("01_partner_created.json"),
                                            "CONTENT_TYPE" => "application/json", "HTTP_X_ODOO_API_KEY" => KEY)
    end
    assert_equal 503, res.status, res.body
    json = JSON.parse(res.body)
    assert_equal "PoolTimeout", json["error"]
    assert_equal 503, json["http_status"]
    assert_equal "0", sql("SELECT count(*) FROM integration_events"), "nothing written"
    assert_equal 200, Rack::MockRequest.new(app).post(ODOO, input: odoo_body("01_partner_created.json"),
                                                      "HTTP_X_ODOO_API_KEY" => KEY).status, "free again: served"
  ensure
    pool&.close
  end

  def test_hubspot
    base = start_server("HUBSPOT_CLIENT_SECRET" => SECRET)
    body = File.binread(File.join(DATA, "hubspot", "batch.json"))
    now = (Time.now.to_f * 1000).to_i.to_s
    sign = ->(secret) { Fastepost.hubspot_sign(secret: secret, body: body, method: "POST", uri: base + HUBSPOT, timestamp: now) }

    status, json = post(base, HUBSPOT, body, "X-HubSpot-Signature-v3" => sign.call("not-the-secret"),
                                              "X-HubSpot-Request-Timestamp" => now)
    assert_equal 401, status, json.inspect
    assert_equal "0", sql("SELECT count(*) FROM integration_events")

    status, json = post(base, HUBSPOT, body, "X-HubSpot-Signature-v3" => sign.call(SECRET),
                                              "X-HubSpot-Request-Timestamp" => now)
    assert_equal 200, status, json.inspect
    assert_equal 7, json["events"].size
    assert_equal "7", sql("SELECT count(*) FROM integration_events WHERE source = 'hubspot'")
    assert_equal "ada@example.com", sql("SELECT email FROM customers WHERE crm_source = 'hubspot'")
  end
end
