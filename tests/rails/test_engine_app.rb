# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Fastepost::Engine in a stock Rails 6.1 application (stock_app.rb: the defaults of `rails new`,
# forgery protection on, the default middleware stack, an empty ApplicationController, the
# engine mounted at /api/v1/integrations, its settings from the environment), served
# by WEBrick in a child process on a free port of 127.0.0.1 and driven over real HTTP with
# Net::HTTP. Each test starts its own server against a fresh database (the bindings' test
# support, FASTEPOST_TEST_DSN) and checks the rows with psql.
require "support"
require "tmpdir"
require "json"
require "csv"
require "net/http"
require "socket"
require "timeout"

# Without Rails (railties, actionpack) and Puma the whole file is a skip (ctest SKIP_RETURN_CODE).
unless [%w[railties >=6.1], %w[actionpack >=6.1], %w[puma]].all? { |n, *r| Gem::Specification.find_all_by_name(n, *r).any? }
  warn "SKIPPED: Debian's Rails 6.1 is not installed (`scripts/deps rails`)"
  exit!(77)
end

class TestRailsEngineApp < DbTest
  DATA = File.expand_path("../../examples/data", __dir__)
  APP = File.expand_path("stock_app.rb", __dir__)
  TOKEN = "admin-token-0123456789"
  ODOO_KEY = "odoo-key-0123456789"
  SECRET = "hubspot-client-secret"
  ODOO = "/api/v1/integrations/odoo"

  def setup
    super
    @tmp = Dir.mktmpdir("fp-rails")
    @backups = File.join(@tmp, "backups")
    @log = File.join(@tmp, "rails.log")
    @server = nil
    Fastepost::Connection.open(@dsn, &:schema_install)
  end

  def teardown
    stop_server
    FileUtils.remove_entry(@tmp)
    super
  end

  # Boot stock_app.rb with this environment (nil removes a variable) under WEBrick or Puma;
  # sets @base to its URL.
  def start_server(env = {}, server = "webrick")
    out, child_out = IO.pipe
    env = { "DATABASE_URL" => @dsn, "RUBYLIB" => $LOAD_PATH.join(File::PATH_SEPARATOR),
            "ODOO_API_KEY" => ODOO_KEY, "HUBSPOT_CLIENT_SECRET" => SECRET, "FASTEPOST_ADMIN_TOKEN" => TOKEN,
            "FASTEPOST_BACKUP_DIR" => @backups, "FASTEPOST_SPOOL_DIR" => File.join(@tmp, "spool"),
            "RAILS_ENV" => nil }.merge(env)
    pid = spawn(env, RbConfig.ruby, APP, "--port", "0", "--log", @log, "--server", server, out: child_out)
    child_out.close
    @server = [pid, out]
    line = Timeout.timeout(60) { out.gets } or flunk "stock_app.rb exited before listening"
    @base = URI(line[%r{listening on (http://\S+)}, 1])
  end

  def stop_server
    return unless @server

    pid, out = @server
    @server = nil
    Process.kill("TERM", pid)
    begin
      Timeout.timeout(20) { Process.wait(pid) }
    rescue Timeout::Error
      Process.kill("KILL", pid)
      Process.wait(pid)
    end
    out.close
  end

  def http(&block)
    Net::HTTP.start(@base.host, @base.port, open_timeout: 10, read_timeout: 60, write_timeout: 60, &block)
  end

  METHODS = { "GET" => Net::HTTP::Get, "POST" => Net::HTTP::Post, "DELETE" => Net::HTTP::Delete }.freeze

  def request(method, path, body: nil, headers: {}, form: nil)
    req = METHODS.fetch(method).new(path, headers)
    if form
      req.set_form(form, "multipart/form-data")
    elsif body
      req.body = body
    elsif method != "GET"
      req["Content-Length"] = "0" # WEBrick answers 411 to a POST without one
      req["Content-Type"] = "application/x-www-form-urlencoded"
    end
    http { |h| h.request(req) }
  end

  def admin(method, path, **opts)
    request(method, path, **opts, headers: { "Authorization" => "Bearer #{TOKEN}" }.merge(opts.fetch(:headers, {})))
  end

  def json(res) = JSON.parse(res.body)

  # The outcome of a webhook's (first) event, as the library's generic entry answers it.
  def outcome(res) = json(res).fetch("events").first&.fetch("outcome")

  def odoo_file(file) = File.binread(File.join(DATA, "odoo", file))

  def odoo(file, query = "", key: ODOO_KEY)
    request("POST", "#{ODOO}#{query}", body: odoo_file(file),
                                       headers: { "Content-Type" => "application/json", "X-Odoo-Api-Key" => key })
  end

  def rss_kb(pid, field = "VmRSS") = File.read("/proc/#{pid}/status")[/^#{field}:\s+(\d+)/, 1].to_i

  # Under AddressSanitizer (a FASTEPOST_SANITIZE build preloads its runtime) freed memory is
  # held in quarantine by design, so memory use says nothing about the code: the memory checks
  # are left out there (and say so); everything else is checked.
  SANITIZED = ENV["LD_PRELOAD"].to_s.include?("asan")

  def assert_memory_below(grown_mb, limit_mb, what)
    return puts("  (memory not checked under ASan: +#{grown_mb.round(1)} MB)") if SANITIZED

    assert_operator grown_mb, :<, limit_mb, what
  end

  def test_odoo_controller
    start_server
    res = odoo("01_partner_created.json")
    assert_equal 200, res.code.to_i, res.body
    assert_equal "created", outcome(res)
    assert_equal "duplicate", outcome(odoo("01_partner_created.json"))
    assert_equal 409, odoo("05_conflict_same_email.json").code.to_i
    assert_equal 400, odoo("06_truncated.json").code.to_i
    res = request("POST", "#{ODOO}?api_key=wrong", body: "{}", headers: { "Content-Type" => "application/json" })
    assert_equal 401, res.code.to_i
    assert_equal "FASTEPOST_EAUTH", json(res)["status"]
    assert_equal 200, odoo("02_partner_phone_changed.json", "?event=archive").code.to_i
    assert_equal "f", sql("SELECT active FROM customers WHERE crm_id = 'res.partner:42'")
  end

  # Item 1 of issue 11: the controller hands the presented key to processing; nil or empty is
  # a 401 like a wrong one, never a skipped check.
  def test_odoo_authentication
    start_server("ODOO_API_KEY" => "old-key, #{ODOO_KEY}") # rotating: both accepted
    body = odoo_file("01_partner_created.json")
    refused = {
      "no key" => [ODOO, {}],
      "empty ?api_key=" => ["#{ODOO}?api_key=", {}],
      "empty header" => [ODOO, { "X-Odoo-Api-Key" => "" }],
      "empty header, right key in the query" => ["#{ODOO}?api_key=#{ODOO_KEY}", { "X-Odoo-Api-Key" => "" }],
      "wrong key" => [ODOO, { "X-Odoo-Api-Key" => "wrong-key-123" }],
      "wrong key in the query" => ["#{ODOO}?api_key=wrong-key-123", {}]
    }
    refused.each do |what, (path, headers)|
      res = request("POST", path, body: body, headers: { "Content-Type" => "application/json" }.merge(headers))
      assert_equal 401, res.code.to_i, "#{what}: #{res.body}"
      assert_equal "FASTEPOST_EAUTH", json(res)["status"], what
      refute_match(/#{ODOO_KEY}|old-key|wrong-key-123/, res.body, "#{what}: no key in the answer")
    end
    assert_equal "0", sql("SELECT count(*) FROM integration_events"), "a refused delivery writes nothing"
    assert_equal "0", sql("SELECT count(*) FROM customers")
    refute_match(/#{ODOO_KEY}|old-key|wrong-key-123/, File.read(@log), "no key in the log")

    assert_equal "created", outcome(odoo("01_partner_created.json"))
    res = request("POST", "#{ODOO}?api_key=old-key", body: odoo_file("02_partner_phone_changed.json"),
                                                     headers: { "Content-Type" => "application/json" })
    assert_equal 200, res.code.to_i, res.body
    assert_equal "updated", outcome(res)
    assert_equal "2", sql("SELECT count(*) FROM integration_events")
    assert_equal "1", sql("SELECT count(*) FROM customers")

    stop_server
    start_server("ODOO_API_KEY" => nil)
    res = odoo("02_partner_phone_changed.json")
    assert_equal 401, res.code.to_i
    assert_equal "FASTEPOST_ENOKEY", json(res)["status"]
    assert_equal "2", sql("SELECT count(*) FROM integration_events"), "no key configured: nothing written"
  end

  def test_odoo_controller_spools_while_the_database_is_unreachable
    start_server("DATABASE_URL" => "host=#{@tmp}/nosocket dbname=x connect_timeout=2")
    res = odoo("01_partner_created.json")
    assert_equal 202, res.code.to_i, res.body
    assert_equal "spooled", outcome(res)
    assert_equal 401, odoo("01_partner_created.json", key: "wrong").code.to_i
    spool = Fastepost::Spool.new(File.join(@tmp, "spool"))
    assert_equal 1, spool.list.size, "the delivery with the wrong key is not spooled"
    assert_equal 1, Fastepost::Connection.open(@dsn) { |conn| spool.replay(conn).replayed }
    assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:42'")
  end

  def test_hubspot_controller
    start_server
    body = File.binread(File.join(DATA, "hubspot", "batch.json"))
    now = (Time.now.to_f * 1000).to_i.to_s
    path = "/api/v1/integrations/hubspot"
    post = lambda do |secret|
      sig = Fastepost.hubspot_sign(secret: secret, body: body, method: "POST", uri: "#{@base}#{path}", timestamp: now)
      request("POST", path, body: body, headers: { "Content-Type" => "application/json",
                                                   "X-HubSpot-Signature-v3" => sig, "X-HubSpot-Request-Timestamp" => now })
    end
    assert_equal 401, post.call("wrong").code.to_i
    assert_equal "0", sql("SELECT count(*) FROM integration_events")
    res = post.call(SECRET)
    assert_equal 200, res.code.to_i, res.body
    assert_equal 7, json(res)["events"].size
    assert_equal "7", sql("SELECT count(*) FROM integration_events WHERE source = 'hubspot'")
  end

  # Issue 13 item 3: the glue shares one bounded Fastepost::Pool per process. More concurrent
  # webhooks than the pool has connections are all served, and no more than FASTEPOST_POOL
  # connections are ever opened.
  def test_concurrent_webhooks_share_a_bounded_pool
    start_server("FASTEPOST_POOL" => "2", "FASTEPOST_POOL_TIMEOUT" => "20")
    template = JSON.parse(odoo_file("01_partner_created.json"))
    bodies = (1..12).map do |i|
      JSON.generate(template.merge("id" => 1000 + i, "_id" => 1000 + i, "email" => "pool#{i}@example.com",
                                   "mobile" => "+49 170 100#{format("%04d", i)}"))
    end
    gate = Queue.new
    threads = bodies.map do |body|
      Thread.new do
        gate.pop # all requests at once
        res = request("POST", ODOO, body: body, headers: { "Content-Type" => "application/json", "X-Odoo-Api-Key" => ODOO_KEY })
        [res.code.to_i, res.body]
      end
    end
    bodies.size.times { gate << true }
    answers = threads.map(&:value)
    assert_equal [200] * bodies.size, answers.map(&:first), answers.inspect
    assert_equal bodies.size.to_s, sql("SELECT count(*) FROM customers")
    assert_operator sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() " \
                        "AND pid <> pg_backend_pid()").to_i, :<=, 2, "at most FASTEPOST_POOL connections"
  end

  # When every connection is busy for longer than FASTEPOST_POOL_TIMEOUT, a webhook is answered
  # 503 (PoolTimeout) and the sender delivers again; an Odoo delivery, which is never delivered
  # again, is spooled instead when a spool is configured (it is here). Here a streamed export
  # to a client that stops reading holds the pool's only connection.
  def test_pool_timeout_spools_odoo_deliveries
    sql("INSERT INTO customers (name, email, address) SELECT 'customer ' || i, 'c' || i || '@example.com', " \
        "repeat('street ', 40) || i FROM generate_series(1, 60000) AS i") # 23 MB of CSV
    start_server("FASTEPOST_POOL" => "1", "FASTEPOST_POOL_TIMEOUT" => "0.5")
    answer = nil
    http do |h|
      req = Net::HTTP::Get.new("/api/v1/integrations/admin/database/export?table=customers&format=csv", "Authorization" => "Bearer #{TOKEN}")
      h.request(req) do |res|
        assert_equal "200", res.code
        res.read_body do |_chunk|
          next if answer # read the rest once the webhook was answered

          sleep 0.5 # the export now blocks on a full socket, holding its connection
          answer = odoo("01_partner_created.json")
        end
      end
    end
    refute_nil answer
    # The app has a spool: Odoo never redelivers, so the delivery is kept (202), not refused.
    assert_equal 202, answer.code.to_i, answer.body
    assert_equal "spooled", outcome(answer)
    assert_equal "0", sql("SELECT count(*) FROM integration_events"), "nothing written yet"
    assert_equal 1, Fastepost::Spool.new(File.join(@tmp, "spool")).list.size
    assert_equal 200, odoo("01_partner_created.json").code.to_i, "the connection is free again"
  end

  # A stock ApplicationController protects against forgery: without the glue's token handling
  # every POST and DELETE below would be 422 InvalidAuthenticityToken.
  def test_admin_requires_the_token
    start_server
    assert_equal 401, request("GET", "/api/v1/integrations/admin/database").code.to_i
    res = request("POST", "/api/v1/integrations/admin/database/backups")
    assert_equal 401, res.code.to_i, "no token: refused before anything else (not 422)"
    assert_match(/\ABearer /, res["WWW-Authenticate"])
    assert_equal 401, request("DELETE", "/api/v1/integrations/admin/database/backups?keep=0", headers: { "Authorization" => "Bearer nope" }).code.to_i
    assert_equal 401, request("POST", "/api/v1/integrations/admin/database/backups", headers: { "Authorization" => "Bearer #{TOKEN}x" }).code.to_i
    refute File.exist?(@backups), "nothing was backed up"
    res = admin("POST", "/api/v1/integrations/admin/database/backups")
    assert_equal 201, res.code.to_i, res.body
    assert_includes Dir.children(@backups), json(res)["name"]
    refute_includes File.read(@log), TOKEN, "the token is not logged"

    stop_server
    start_server("FASTEPOST_ADMIN_TOKEN" => nil)
    assert_equal 401, admin("GET", "/api/v1/integrations/admin/crm_dashboard.json").code.to_i, "no token configured: nobody"
    assert_equal 401, admin("POST", "/api/v1/integrations/admin/database/backups", headers: { "Authorization" => "Bearer " }).code.to_i
  end

  # config.fastepost.admin_authenticator = :authenticate_admin! (the app's own check, on
  # admin_parent_controller = "ApplicationController"): requests without the token go to it and
  # keep the app's forgery protection; the token still works, without a CSRF token.
  def test_admin_through_the_apps_authenticator
    start_server("STOCK_APP_ADMIN_CHECK" => "1")
    assert_equal 403, request("GET", "/api/v1/integrations/admin/database").code.to_i, "the app's check refuses"
    res = request("GET", "/api/v1/integrations/admin/database", headers: { "X-Stock-Admin" => "yes" })
    assert_equal 200, res.code.to_i, res.body
    res = request("POST", "/api/v1/integrations/admin/database/backups", headers: { "X-Stock-Admin" => "yes" })
    assert_equal 422, res.code.to_i, "a session-authenticated POST without a CSRF token: forgery protection"
    refute File.exist?(@backups), "nothing was backed up"
    assert_equal 401, request("POST", "/api/v1/integrations/admin/database/backups",
                              headers: { "Authorization" => "Bearer #{TOKEN}x", "X-Stock-Admin" => "yes" }).code.to_i,
                 "a wrong token is refused whatever else the request carries"
    assert_equal 201, admin("POST", "/api/v1/integrations/admin/database/backups").code.to_i
  end

  def test_export_import
    start_server
    csv = File.join(DATA, "customers.csv")
    upload = ->(dry) { [["table", "customers"], ["dry_run", dry], ["file", File.open(csv), { filename: "customers.csv", content_type: "text/csv" }]] }
    res = admin("POST", "/api/v1/integrations/admin/database/import", form: upload.call("1"))
    assert_equal 200, res.code.to_i, res.body
    report = json(res)
    assert report["dry_run"]
    assert_operator report["rows_read"], :>, 0
    assert_equal "0", sql("SELECT count(*) FROM customers"), "a dry run writes nothing"

    res = admin("POST", "/api/v1/integrations/admin/database/import", form: upload.call("0"))
    assert_equal 200, res.code.to_i, res.body
    inserted = json(res)["rows_inserted"]
    assert_operator inserted, :>, 0
    assert_equal inserted.to_s, sql("SELECT count(*) FROM customers")

    res = admin("GET", "/api/v1/integrations/admin/database/export?table=customers&format=csv")
    assert_equal 200, res.code.to_i, res.body
    assert_equal "text/csv", res.content_type
    assert_match(/attachment; filename="customers.csv"/, res["Content-Disposition"])
    rows = CSV.parse(res.body, headers: true)
    assert_equal inserted, rows.size
    assert_equal sql("SELECT email FROM customers ORDER BY id LIMIT 1"), rows.first["email"]
    res = admin("GET", "/api/v1/integrations/admin/database/export?table=customers&format=ndjson")
    assert_equal inserted, res.body.lines.size
    assert_kind_of Hash, JSON.parse(res.body.lines.first)

    assert_equal 404, admin("GET", "/api/v1/integrations/admin/database/export?table=no_such_table").code.to_i
    assert_equal 400, admin("GET", "/api/v1/integrations/admin/database/export?table=customers&format=xml").code.to_i

    res = admin("GET", "/api/v1/integrations/admin/database")
    assert_equal 200, res.code.to_i, res.body
    assert_includes res.body, "customers"
  end

  def test_backups
    start_server
    names = 2.times.map do
      res = admin("POST", "/api/v1/integrations/admin/database/backups")
      assert_equal 201, res.code.to_i, res.body
      json(res)["name"]
    end
    listed = json(admin("GET", "/api/v1/integrations/admin/database/backups"))["backups"]
    assert_equal names.reverse, listed.map { |b| b["name"] }
    res = admin("GET", "/api/v1/integrations/admin/database/backups/#{names.last}")
    assert_equal 200, res.code.to_i
    assert_equal File.binread(File.join(@backups, names.last)), res.body
    assert_equal 400, admin("GET", "/api/v1/integrations/admin/database/backups/..%2Fetc%2Fpasswd").code.to_i, "not a backup name"
    assert_equal 404, admin("GET", "/api/v1/integrations/admin/database/backups/backup_20000101_000000.sql").code.to_i
    res = admin("DELETE", "/api/v1/integrations/admin/database/backups?keep=1")
    assert_equal 200, res.code.to_i, res.body
    assert_equal [names.first], json(res)["removed"]
    assert_equal [names.last], Dir.children(@backups).grep(/\.(sql|dump)\z/)
  end

  def test_crm_dashboard
    start_server
    odoo("01_partner_created.json")
    res = admin("GET", "/api/v1/integrations/admin/crm_dashboard.json")
    assert_equal 200, res.code.to_i, res.body
    stats = json(res)
    odoo_stats = stats["sources"].find { |s| s["source"] == "odoo" }
    assert_equal 1, odoo_stats["total_events"]
    assert_equal "#{@base}#{ODOO}", stats["setup"]["odoo_webhook_url"].to_s[/\A[^?]*/]
    res = admin("GET", "/api/v1/integrations/admin/crm_dashboard")
    assert_equal 200, res.code.to_i, res.body
    assert_includes res["content-type"], "text/html", "HTML: the library's report"
    assert_includes res.body, "#{@base}#{ODOO}", "the webhook URL to configure"
    refute_match(/<script\b[^>]*\bsrc=|<link\b[^>]*\bhref="https?:/i, res.body, "no external assets")
  end

  # Before the glue's middleware, Rails parsed a 50 MB JSON webhook to log it as "Parameters:"
  # (seconds, hundreds of MB, the customers' data in the log) before the 1 MiB check.
  def test_webhook_body_limit_comes_before_rails_under_webrick = check_webhook_body_limit("webrick")

  def test_webhook_body_limit_comes_before_rails_under_puma = check_webhook_body_limit("puma")

  def check_webhook_body_limit(server)
    start_server({}, server)
    pid = @server[0]
    marker = "personal-data-#{SecureRandom.hex(4)}"
    assert_equal 200, odoo("01_partner_created.json").code.to_i # everything loaded and warm
    before = rss_kb(pid, "VmHWM")
    big = +%({"_model": "res.partner", "id": 77, "name": "#{marker}", "items": [)
    big << (%({"email": "#{marker}@example.com", "note": "#{"x" * 200}"},) * 200_000) << "{}]}"
    assert_operator big.bytesize, :>, 50_000_000
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    res = request("POST", "#{ODOO}?api_key=#{ODOO_KEY}", body: big, headers: { "Content-Type" => "application/json" })
    took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    assert_equal 413, res.code.to_i, res.body
    assert_equal "TooBigError", json(res)["error"]
    assert_operator took, :<, 10, "answered without parsing the body"
    grown_mb = (rss_kb(pid, "VmHWM") - before) / 1024.0
    puts format("%s, 50 MB webhook: 413 in %.2f s, server peak memory +%.1f MB", server, took, grown_mb)
    if server == "puma"
      # Puma keeps a big body in a temporary file (what grows is its read buffers' garbage,
      # about 28 MB, whatever the size); the app reads at most 1 MiB + 1 of it.
      assert_memory_below grown_mb, big.bytesize / 1_000_000.0 * 0.8, "the body never held in memory"
    else
      # WEBrick (Rack 2.2's handler) reads the whole request body into one growing String
      # before any middleware runs (up to twice its size while it grows): that much is the
      # server's, and no app can avoid it. Rails parsing it took about 410 MB.
      assert_memory_below grown_mb, big.bytesize / 1_000_000.0 * 2.5, "nothing but the server's own copy of the body"
    end
    log = File.read(@log)
    refute_includes log, marker, "nothing of the body in the log"
    refute_includes log, ODOO_KEY, "nor the key from the query string"
    assert_includes log, "Refused a webhook body over 1048576 bytes (413): POST #{ODOO}\n"
    # Within the limit, the body reaches the library but still neither `params` nor the log.
    small = %({"_model": "res.partner", "id": 78, "name": "#{marker}", "email": "#{marker}@example.com"})
    assert_equal 200, request("POST", "/#{ODOO}/?api_key=#{ODOO_KEY}", body: small,
                                                                         headers: { "Content-Type" => "application/json" }).code.to_i
    assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:78'")
    log = File.read(@log)
    refute_includes log, marker, "a delivery's data is never logged"
    refute_includes log, ODOO_KEY
    assert_includes log, "api_key=[FILTERED]"
    assert_equal "0", sql("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:77'"), "the oversized one wrote nothing"
  end

  # Before, Rack::ETag read the whole "streamed" export to compute a digest (and WEBrick collects
  # a Rack body whole anyway): the first byte came after the export had finished.
  def test_export_streams_under_webrick = check_export_streams("webrick")

  def test_export_streams_under_puma = check_export_streams("puma")

  def check_export_streams(server)
    sql("INSERT INTO customers (name, email, address) SELECT 'customer ' || i, 'c' || i || '@example.com', " \
        "repeat('street ', 40) || i FROM generate_series(1, 150000) AS i") # 58 MB of CSV
    start_server({}, server)
    pid = @server[0]
    assert_equal 200, admin("GET", "/api/v1/integrations/admin/database/export?table=integration_events").code.to_i # warm up
    before = rss_kb(pid, "VmHWM")
    total = 0
    exporting_at_first_chunk = nil
    http do |h|
      req = Net::HTTP::Get.new("/api/v1/integrations/admin/database/export?table=customers&format=csv", "Authorization" => "Bearer #{TOKEN}")
      h.request(req) do |res|
        assert_equal "200", res.code
        # WEBrick chunks what the app writes; Puma passes it on as it is, until the close.
        assert_equal "chunked", res["Transfer-Encoding"] if server == "webrick"
        assert_nil res["Content-Length"]
        assert_nil res["ETag"], "Rack::ETag did not read the body"
        assert_equal "no", res["X-Accel-Buffering"]
        res.read_body do |chunk|
          if exporting_at_first_chunk.nil?
            # The client has read one chunk and reads no more for now: with ~45 MB to go, the
            # server's COPY must still be running (blocked on a full socket) if it streams.
            sleep 0.5
            exporting_at_first_chunk = sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() " \
                                           "AND query LIKE 'COPY%customers%' AND state = 'active'")
          end
          total += chunk.bytesize
        end
      end
    end
    assert_equal "1", exporting_at_first_chunk, "the first bytes arrived while the export was still running"
    assert_operator total, :>, 40_000_000
    grown_mb = (rss_kb(pid, "VmHWM") - before) / 1024.0
    puts format("%s, %.1f MB export: server peak memory +%.1f MB", server, total / 1e6, grown_mb)
    assert_memory_below grown_mb, 20, "memory stays flat while streaming"
    assert_equal "0", sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() " \
                          "AND query LIKE 'COPY%customers%' AND state = 'active'"), "the export has ended"
  end
end
