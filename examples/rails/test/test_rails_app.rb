# frozen_string_literal: true

# Boots a minimal Rails application (Debian's railties + actionpack, no bundler, no network)
# whose root is examples/rails, so the controllers, the concerns, the initializer and the routes
# file are loaded exactly as a copy in the real app would be, and drives it with
# Rack::MockRequest. Uses the bindings' test support (a fresh database per test).
ENV["RAILS_ENV"] = "test"
require "support"
require "tmpdir"
require "json"
require "csv"
require "logger"
verbose, $VERBOSE = $VERBOSE, nil # Rails 6.1 and nokogiri warn under -w; our files need not
require "rails"
require "action_controller/railtie"
$VERBOSE = verbose
require "rack/mock"

class ApplicationController < ActionController::Base # the host app's; nothing special here
  protect_from_forgery with: :null_session
end

class FastepostExampleApp < Rails::Application
  config.root = File.expand_path("..", __dir__)
  config.eager_load = false
  config.logger = Logger.new(nil)
  config.cache_store = :null_store
  config.secret_key_base = "0" * 64
  config.hosts.clear
  config.action_dispatch.show_exceptions = false
end
FastepostExampleApp.initialize!
FastepostExampleApp.routes.draw { draw :fastepost }

# In a FASTEPOST_SANITIZE build the ASan runtime is preloaded into this interpreter, but
# pg_dump, which the library spawns for backups with the inherited environment, hangs under it
# (as psql does): the preload has done its work once Ruby runs, so drop it.
ENV.delete("LD_PRELOAD")

class TestRailsGlue < DbTest
  DATA = File.expand_path("../../data", __dir__)
  TOKEN = "admin-token"
  SECRET = "hubspot-client-secret"

  def setup
    super
    @backups = Dir.mktmpdir("fp-rails-backups")
    @spool = Dir.mktmpdir("fp-rails-spool")
    @saved_env = ENV.to_h
    ENV.update("DATABASE_URL" => @dsn, "ODOO_API_KEY" => "odoo-key", "HUBSPOT_CLIENT_SECRET" => SECRET,
               "FASTEPOST_ADMIN_TOKEN" => TOKEN, "FASTEPOST_BACKUP_DIR" => @backups,
               "FASTEPOST_SPOOL_DIR" => File.join(@spool, "spool"))
    FastepostDB.connection.schema_install
    @app = Rack::MockRequest.new(FastepostExampleApp)
  end

  def teardown
    # The initializer keeps one connection per thread; this thread's points at this test's
    # database, which is about to be dropped.
    Thread.current.thread_variable_get(:fastepost_connection)&.close
    Thread.current.thread_variable_set(:fastepost_connection, nil)
    ENV.replace(@saved_env)
    FileUtils.remove_entry(@backups)
    FileUtils.remove_entry(@spool)
    super
  end

  def admin(method, path, **opts)
    @app.request(method, path, { "HTTP_AUTHORIZATION" => "Bearer #{TOKEN}" }.merge(opts))
  end

  def json(res) = JSON.parse(res.body)

  def odoo(file, query = "")
    @app.post("/api/v1/integrations/odoo#{query}", input: File.binread(File.join(DATA, "odoo", file)),
                                                   "CONTENT_TYPE" => "application/json",
                                                   "HTTP_X_ODOO_API_KEY" => "odoo-key")
  end

  def test_odoo_controller
    res = odoo("01_partner_created.json")
    assert_equal 200, res.status, res.body
    assert_equal "created", json(res)["outcome"].to_s
    assert_equal "duplicate", json(odoo("01_partner_created.json"))["outcome"].to_s
    assert_equal 409, odoo("05_conflict_same_email.json").status
    assert_equal 400, odoo("06_truncated.json").status
    res = @app.post("/api/v1/integrations/odoo?api_key=wrong", input: "{}", "CONTENT_TYPE" => "application/json")
    assert_equal 401, res.status
    assert_equal "AuthError", json(res)["error"]
    assert_equal 200, odoo("02_partner_phone_changed.json", "?event=archive").status
    assert_equal "f", sql("SELECT active FROM customers WHERE crm_id = 'res.partner:42'")
  end

  def test_odoo_controller_spools_while_the_database_is_unreachable
    Thread.current.thread_variable_get(:fastepost_connection)&.close
    ENV["DATABASE_URL"] = "host=#{@spool}/nosocket dbname=x connect_timeout=2"
    res = odoo("01_partner_created.json")
    assert_equal 202, res.status, res.body
    assert_equal "spooled", json(res)["outcome"]
    assert_equal 401, @app.post("/api/v1/integrations/odoo?api_key=wrong", input: "{}", "CONTENT_TYPE" => "application/json").status
    ENV["DATABASE_URL"] = @dsn
    report = FastepostDB.spool.replay(FastepostDB.connection)
    assert_equal 1, report.replayed
    assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:42'")
  end

  def test_hubspot_controller
    body = File.binread(File.join(DATA, "hubspot", "batch.json"))
    now = (Time.now.to_f * 1000).to_i.to_s
    url = "http://example.org/api/v1/integrations/hubspot"
    post = lambda do |secret|
      sig = Fastepost.hubspot_sign(secret: secret, body: body, method: "POST", uri: url, timestamp: now)
      @app.post(url, input: body, "CONTENT_TYPE" => "application/json",
                     "HTTP_X_HUBSPOT_SIGNATURE_V3" => sig, "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP" => now)
    end
    assert_equal 401, post.call("wrong").status
    res = post.call(SECRET)
    assert_equal 200, res.status, res.body
    assert_equal 7, json(res)["events"].size
    assert_equal "7", sql("SELECT count(*) FROM integration_events WHERE source = 'hubspot'")
  end

  def test_admin_requires_the_token
    assert_equal 401, @app.get("/admin/database").status
    assert_equal 401, @app.get("/admin/database/export?table=customers", "HTTP_AUTHORIZATION" => "Bearer nope").status
    ENV.delete("FASTEPOST_ADMIN_TOKEN")
    assert_equal 401, admin("GET", "/admin/crm_dashboard.json").status, "no token configured: nobody"
  end

  def test_export_import
    csv = File.join(DATA, "customers.csv")
    upload = ->(dry) { Rack::Multipart::UploadedFile.new(csv, "text/csv") .then { |f| { "table" => "customers", "file" => f, "dry_run" => dry } } }
    res = admin("POST", "/admin/database/import", params: upload.call("1"))
    assert_equal 200, res.status, res.body
    report = json(res)
    assert report["dry_run"]
    assert_operator report["rows_read"], :>, 0
    assert_equal "0", sql("SELECT count(*) FROM customers"), "a dry run writes nothing"

    res = admin("POST", "/admin/database/import", params: upload.call("0"))
    assert_equal 200, res.status, res.body
    inserted = json(res)["rows_inserted"]
    assert_operator inserted, :>, 0
    assert_equal inserted.to_s, sql("SELECT count(*) FROM customers")

    res = admin("GET", "/admin/database/export?table=customers&format=csv")
    assert_equal 200, res.status, res.body
    assert_equal "text/csv", res.content_type
    assert_match(/attachment; filename="customers.csv"/, res["Content-Disposition"])
    rows = CSV.parse(res.body, headers: true)
    assert_equal inserted, rows.size
    assert_equal sql("SELECT email FROM customers ORDER BY id LIMIT 1"), rows.first["email"]
    res = admin("GET", "/admin/database/export?table=customers&format=ndjson")
    assert_equal inserted, res.body.lines.size
    assert_kind_of Hash, JSON.parse(res.body.lines.first)

    assert_equal 404, admin("GET", "/admin/database/export?table=no_such_table").status
    assert_equal 400, admin("GET", "/admin/database/export?table=customers&format=xml").status

    res = admin("GET", "/admin/database")
    assert_equal 200, res.status, res.body
    assert_includes res.body, "customers"
  end

  def test_backups
    names = 2.times.map do
      res = admin("POST", "/admin/database/backups")
      assert_equal 201, res.status, res.body
      json(res)["name"]
    end
    listed = json(admin("GET", "/admin/database/backups"))["backups"]
    assert_equal names.reverse, listed.map { |b| b["name"] }
    res = admin("GET", "/admin/database/backups/#{names.last}")
    assert_equal 200, res.status
    assert_equal File.binread(File.join(@backups, names.last)), res.body
    assert_equal 400, admin("GET", "/admin/database/backups/..%2Fetc%2Fpasswd").status, "not a backup name"
    assert_equal 404, admin("GET", "/admin/database/backups/backup_20000101_000000.sql").status
    res = admin("DELETE", "/admin/database/backups?keep=1")
    assert_equal 200, res.status, res.body
    assert_equal [names.first], json(res)["removed"]
    assert_equal [names.last], Dir.children(@backups).grep(/\.(sql|dump)\z/)
  end

  def test_crm_dashboard
    odoo("01_partner_created.json")
    res = admin("GET", "/admin/crm_dashboard.json")
    assert_equal 200, res.status, res.body
    stats = json(res)
    odoo_stats = stats["sources"].find { |s| s["source"] == "odoo" }
    assert_equal 1, odoo_stats["total_events"]
    assert_match %r{\Ahttp://example.org/api/v1/integrations/odoo}, stats["setup"]["odoo_webhook_url"].to_s
    res = admin("GET", "/admin/crm_dashboard")
    assert_equal 200, res.status, "HTML without the app's view falls back to JSON"
    assert_equal stats["sources"].size, json(res)["sources"].size
  end
end
