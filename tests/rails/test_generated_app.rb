# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The Rails engine in a fresh application, made as docs/getting-started/rails.md says: Debian's
# Rails 6.1 `rails new` (offline: --skip-bundle, the Gemfile resolved against the installed
# gems), the gem of this build tree in the Gemfile, `rails generate fastepost:install`,
# `rails db:migrate`, then Puma (Debian's) in production on a free port of 127.0.0.1, against a
# database of its own on the throwaway server. Every route over real HTTP: each source's
# webhook (tests/fixtures/<source>/ok.*) with its credentials (a customer), without them and
# with wrong ones (401, nothing written); the admin tools and the dashboard without and with
# the admin token; /metrics off, without and with its token; a rake task and jobs performed
# inline. Skipped (exit 77) when Rails is not installed.
require "support"
require "webhook_fixtures"
require "tmpdir"
require "json"
require "net/http"
require "socket"
require "timeout"
require "open3"
require "fileutils"
require "shellwords"

module RailsApp
  SKIP = 77
  # Debian's rails command (ruby-railties) and the gems of the Gemfile `rails new` writes.
  GEMS = [%w[rails >=6.1], %w[pg], %w[puma], %w[jbuilder], %w[byebug], %w[web-console]].freeze
  RAILS = ("/usr/bin/rails" if File.executable?("/usr/bin/rails") &&
                               GEMS.all? { |name, *req| Gem::Specification.find_all_by_name(name, *req).any? })
  BUILD = ENV.fetch("FASTEPOST_RUBY_BUILD_DIR")
  MOUNT = "/api/v1/integrations"
  TOKEN = "admin-token-0123456789abcdef"
  METRICS = "metrics-token-0123456789abcdef"

  # The page whose steps this test runs: `rails new` takes its options from there.
  GUIDE = File.join(ENV.fetch("FASTEPOST_SOURCE_DIR"), "docs", "getting-started", "rails.md")

  module_function

  # The page's shell text, continuation lines joined.
  def guide = File.read(GUIDE).gsub(/\\\n\s*/, " ")

  # The options of the page's `rails new shop ...` (offline: --skip-bundle ...).
  def new_options
    line = guide[/^rails new shop (.*)$/, 1] or raise "no `rails new shop` line in #{GUIDE}"
    Shellwords.split(line)
  end

  # The webhook body the page sends with curl.
  def guide_webhook = guide[/--data-binary '([^']*)'/, 1] || raise("no curl --data-binary in #{GUIDE}")

  # A clean environment for the app's commands: nothing of this test's Ruby load path (the
  # app gets the gem through its Gemfile, as a user's would), no Bundler state of ours.
  def env(extra = {})
    base = { "RUBYLIB" => nil, "RUBYOPT" => nil, "BUNDLE_GEMFILE" => nil, "BUNDLE_PATH" => nil,
             "GEM_HOME" => nil, "DATABASE_URL" => nil, "RAILS_ENV" => nil, "LD_PRELOAD" => nil,
             "FASTEPOST_WEBHOOK_CONFIG" => nil, "FASTEPOST_WEBHOOK_CONFIG_JSON" => nil, "ODOO_API_KEY" => nil,
             "HUBSPOT_CLIENT_SECRET" => nil, "FASTEPOST_ADMIN_TOKEN" => nil, "FASTEPOST_METRICS_TOKEN" => nil }
    # Under ASan the binding needs the runtime preloaded (bindings/CMakeLists.txt sets it).
    base["LD_PRELOAD"] = ENV["LD_PRELOAD"] if ENV["LD_PRELOAD"].to_s.include?("asan")
    base.merge(extra)
  end

  # Run a command in dir within timeout seconds; its output. Fails the test on a non-zero exit.
  def run!(test, env, cmd, dir, timeout: 180)
    out, status = run(env, cmd, dir, timeout: timeout)
    test.assert status.success?, "#{cmd.join(" ")} failed (#{status.exitstatus}):\n#{out}"
    out
  end

  def run(env, cmd, dir, timeout: 180)
    Open3.popen2e(env, *cmd, chdir: dir, in: File::NULL) do |_, io, wait|
      reader = Thread.new { io.read }
      unless wait.join(timeout)
        Process.kill("KILL", wait.pid)
        wait.join
        raise "#{cmd.join(" ")} did not finish within #{timeout} s:\n#{reader.value}"
      end
      [reader.value, wait.value]
    end
  end

  # The application, made once for the whole run (the steps of the getting-started page).
  def app(test)
    @app ||= begin
      root = Dir.mktmpdir("fp-rails-app")
      Minitest.after_run { FileUtils.remove_entry(root) }
      dir = File.join(root, "shop")
      run!(test, env, [RAILS, "new", dir, *new_options], root)
      File.open(File.join(dir, "Gemfile"), "a") { |f| f.puts %(gem "fastepost", path: "#{BUILD}") }
      run!(test, env, %w[bin/rails generate fastepost:install], dir)
      if ENV["LD_PRELOAD"].to_s.include?("asan")
        # A FASTEPOST_SANITIZE build preloads the ASan runtime for the binding, but pg_dump,
        # which backups spawn with the inherited environment, hangs under it (as psql does):
        # once the binding is loaded the preload has done its work.
        File.write(File.join(dir, "config/initializers/zz_asan_preload.rb"), %(ENV.delete("LD_PRELOAD")\n))
      end
      dir
    end
  end
end

class TestRailsGeneratedApp < DbTest
  FX = WebhookFixtures

  def setup
    skip_whole_run unless RailsApp::RAILS
    super
    @tmp = Dir.mktmpdir("fp-rails-run")
    @server = nil
    @app = RailsApp.app(self)
    @url = database_url
  end

  def teardown
    stop_server
    FileUtils.remove_entry(@tmp) if @tmp
    super
  end

  # No Rails: the whole file is a skip (ctest SKIP_RETURN_CODE), not a pass.
  def skip_whole_run
    warn "SKIPPED: Debian's Rails 6.1 is not installed (`scripts/deps rails`)"
    exit!(RailsApp::SKIP)
  end

  # The test database as a URL, the form DATABASE_URL takes in Rails (ActiveRecord does not
  # read libpq's key=value form); the server listens on a Unix socket (scripts/with-postgres).
  def database_url
    parts = server_dsn.scan(/(\w+)=('(?:[^'\\]|\\.)*'|\S+)/).to_h { |k, v| [k, v.delete_prefix("'").delete_suffix("'")] }
    user = URI.encode_www_form_component(parts["user"] || ENV["PGUSER"] || "postgres")
    # The user in the URL itself: it overrides database.yml's production username. The socket
    # directory percent-encoded as the host, which both ActiveRecord and libpq decode.
    host = URI.encode_www_form_component(parts.fetch("host"))
    port = parts["port"] ? ":#{parts["port"]}" : ""
    "postgresql://#{user}@#{host}#{port}/#{@dbname}"
  end

  def written = sql("SELECT (SELECT count(*) FROM integration_events) + (SELECT count(*) FROM customers)").to_i

  def app_env(extra = {})
    RailsApp.env({ "RAILS_ENV" => "production", "DATABASE_URL" => @url, "PUBLIC_URL" => FX::BASE_URL,
                   "FASTEPOST_BACKUP_DIR" => File.join(@tmp, "backups"),
                   "FASTEPOST_SPOOL_DIR" => File.join(@tmp, "spool"), "RAILS_LOG_TO_STDOUT" => nil }.merge(extra))
  end

  def rails!(args, extra = {}) = RailsApp.run!(self, app_env(extra), ["bin/rails", *args], @app)

  # The schema through the generated migration, then Puma as `rails server` starts it.
  def start_server(extra = {})
    rails!(%w[db:migrate], extra)
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
    log = File.join(@tmp, "server.log")
    pid = spawn(app_env(extra), "bin/rails", "server", "-e", "production", "-b", "127.0.0.1", "-p", port.to_s,
                chdir: @app, out: log, err: log, in: File::NULL)
    @server = pid
    @base = URI("http://127.0.0.1:#{port}")
    deadline = Time.now + 90
    loop do
      Net::HTTP.start(@base.host, @base.port, open_timeout: 2, read_timeout: 10) { |h| h.get("/") }
      break
    rescue SystemCallError, Net::OpenTimeout, EOFError
      flunk "the app did not start within 90 s:\n#{File.read(log)}" if Time.now > deadline
      flunk "the app exited:\n#{File.read(log)}" if Process.wait(pid, Process::WNOHANG)
      sleep 0.3
    end
  end

  def stop_server
    return unless @server

    Process.kill("TERM", @server)
    Timeout.timeout(30) { Process.wait(@server) }
  rescue Timeout::Error
    Process.kill("KILL", @server)
    Process.wait(@server)
  ensure
    @server = nil
  end

  METHODS = { "GET" => Net::HTTP::Get, "POST" => Net::HTTP::Post, "DELETE" => Net::HTTP::Delete }.freeze

  def request(method, path, body: nil, headers: {})
    req = METHODS.fetch(method).new(path, headers)
    unless method == "GET"
      req.body = body || ""
      req["Content-Type"] ||= "application/x-www-form-urlencoded"
    end
    Net::HTTP.start(@base.host, @base.port, open_timeout: 10, read_timeout: 60) { |h| h.request(req) }
  end

  def admin(method, path, token: RailsApp::TOKEN)
    request(method, "#{RailsApp::MOUNT}/admin/#{path}", headers: token ? { "Authorization" => "Bearer #{token}" } : {})
  end

  def fixtures = FX::SOURCES.map { |s| FX.from_fixture(s) or flunk("no tests/fixtures/#{s}/ok.*") }

  def config_file(config)
    path = File.join(@tmp, "webhooks.json")
    File.write(path, JSON.generate(config), perm: 0o600)
    path
  end

  def post(req, headers: req.headers) = request("POST", req.path, body: req.body, headers: headers)

  # The generator's files are there and the app has the routes it promised.
  def test_1_generator_output
    guide = RailsApp.guide
    assert_includes RailsApp.new_options, "--skip-bundle", "offline: no bundle install"
    assert_includes guide, %(echo "gem \\"fastepost\\", path: \\"$FASTEPOST_GEM\\"" >> Gemfile)
    assert_includes guide, "bin/rails generate fastepost:install\n"
    assert_includes guide, "bin/rails db:migrate\n"
    initializer = File.read(File.join(@app, "config/initializers/fastepost.rb"))
    assert_includes initializer, "config.fastepost.webhooks"
    assert_includes File.read(File.join(@app, "config/routes.rb")), %(mount Fastepost::Engine, at: "#{RailsApp::MOUNT}")
    migrations = Dir[File.join(@app, "db/migrate/*_install_fastepost.rb")]
    assert_equal 1, migrations.size, "one migration"
    assert_includes File.read(migrations.first), "schema_install"
    # Running it again changes nothing: still one mount line, one migration.
    RailsApp.run!(self, RailsApp.env, %w[bin/rails generate fastepost:install --skip], @app)
    assert_equal 1, File.read(File.join(@app, "config/routes.rb")).scan("Fastepost::Engine").size
    assert_equal 1, Dir[File.join(@app, "db/migrate/*_install_fastepost.rb")].size
    routes = rails!(%w[routes])
    %w[metrics admin/crm_dashboard admin/database admin/database/backups :source].each do |r|
      assert_match %r{#{Regexp.escape(r)}}, routes, "route #{r}"
    end
  end

  # Every source with its configuration (the fixtures' config.json, through
  # FASTEPOST_WEBHOOK_CONFIG): without its credential 401 and nothing written, with it a customer.
  def test_2_webhooks_of_every_source
    reqs = fixtures
    start_server("FASTEPOST_WEBHOOK_CONFIG" => config_file(reqs.map(&:config).reduce({}, :merge)))
    assert_equal 1, sql("SELECT count(*) FROM schema_migrations").to_i, "the app's migration ran"
    reqs.each do |req|
      stripped = req.headers.reject { |k, _| k.match?(/authorization|api-key|signature/i) }
      if stripped.size < req.headers.size
        before = written
        res = post(req, headers: stripped)
        assert_equal 401, res.code.to_i, "#{req.source} without its credential: #{res.body}"
        assert_equal before, written, "#{req.source}: a refused request writes nothing"
      end
      res = post(req)
      assert_includes 200..299, res.code.to_i, "#{req.source}: #{res.body}"
      assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = '#{req.expect}'"),
                   "#{req.source}: no customer #{req.expect}"
    end
    _, challenge = FX.challenge
    res = request("POST", "#{RailsApp::MOUNT}/monday", body: challenge, headers: { "Content-Type" => "application/json" })
    assert_equal JSON.parse(challenge), JSON.parse(res.body), "monday.com's challenge echoed"
    assert_equal 404, request("POST", "#{RailsApp::MOUNT}/acme", body: "{}", headers: { "Content-Type" => "application/json" }).code.to_i
  end

  # Wrong credentials (each source's secrets mangled in the configuration): 401, nothing written.
  def test_3_wrong_credentials_and_no_configuration
    reqs = fixtures.select(&:wrong_config)
    start_server("FASTEPOST_WEBHOOK_CONFIG" => config_file(reqs.map(&:wrong_config).reduce({}, :merge)))
    reqs.each do |req|
      res = post(req)
      # Salesforce's organisation id is in the body: another org's is a SOAP fault, 400
      # (docs/salesforce.md).
      expected = req.source == "salesforce" ? 400 : 401
      assert_equal expected, res.code.to_i, "#{req.source} with a wrong credential: #{res.body}"
    end
    assert_equal 0, written, "a refused request writes nothing"
    stop_server
    # No configuration but Odoo's key in the environment (the initializer's per-source keys):
    # Odoo accepted, every other source refused.
    odoo = fixtures.find { |r| r.source == "odoo" }
    start_server("ODOO_API_KEY" => odoo.config.dig("odoo", "api_keys").first)
    (fixtures - [odoo]).each do |req|
      assert_equal 401, post(req).code.to_i, "#{req.source} without configuration"
    end
    assert_equal 0, written
    assert_equal 200, post(odoo).code.to_i
    assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = '#{odoo.expect}'")
    # The getting-started page's webhook, as its curl sends it.
    res = request("POST", "#{RailsApp::MOUNT}/odoo", body: RailsApp.guide_webhook,
                                                     headers: { "Content-Type" => "application/json",
                                                                "X-Odoo-Api-Key" => odoo.config.dig("odoo", "api_keys").first })
    assert_equal 200, res.code.to_i, res.body
    assert_equal "created", JSON.parse(res.body).dig("events", 0, "outcome")
    assert_equal "2", sql("SELECT count(*) FROM customers")
    # No metrics token: the route is off.
    assert_equal 404, request("GET", "#{RailsApp::MOUNT}/metrics").code.to_i
  end

  # The admin tools, the dashboard and /metrics: refused without their tokens, served with them.
  def test_4_admin_dashboard_metrics
    odoo = fixtures.find { |r| r.source == "odoo" }
    start_server("FASTEPOST_WEBHOOK_CONFIG" => config_file(odoo.config), "FASTEPOST_ADMIN_TOKEN" => RailsApp::TOKEN,
                 "FASTEPOST_METRICS_TOKEN" => RailsApp::METRICS)
    assert_equal 200, post(odoo).code.to_i
    [%w[GET crm_dashboard], %w[GET crm_dashboard.json], %w[GET database], %w[GET database/backups],
     %w[POST database/backups], %w[DELETE database/backups], %w[GET database/export?table=customers]].each do |m, path|
      [nil, "wrong-#{RailsApp::TOKEN}"].each do |token|
        res = admin(m, path, token: token)
        assert_equal 401, res.code.to_i, "#{m} #{path} with token #{token.inspect}: #{res.body}"
      end
    end
    assert_empty Dir[File.join(@tmp, "backups", "*")], "a refused backup wrote nothing"

    res = admin("GET", "crm_dashboard")
    assert_equal 200, res.code.to_i, res.body
    assert_includes res["content-type"], "text/html"
    assert_includes res.body, "odoo"
    stats = JSON.parse(admin("GET", "crm_dashboard.json").body)
    assert_includes stats.to_s, "odoo"
    assert_equal 200, admin("GET", "database").code.to_i
    res = admin("POST", "database/backups")
    assert_equal 201, res.code.to_i, res.body
    name = JSON.parse(res.body).fetch("name")
    assert File.exist?(File.join(@tmp, "backups", name)), "backup #{name} written"
    listed = JSON.parse(admin("GET", "database/backups").body)["backups"].map { |b| b["name"] }
    assert_includes listed, name
    csv = admin("GET", "database/export?table=customers")
    assert_equal 200, csv.code.to_i
    assert_includes csv.body, odoo.expect

    metrics = "#{RailsApp::MOUNT}/metrics"
    assert_equal 401, request("GET", metrics).code.to_i
    assert_equal 401, request("GET", metrics, headers: { "Authorization" => "Bearer wrong" }).code.to_i
    res = request("GET", metrics, headers: { "Authorization" => "Bearer #{RailsApp::METRICS}" })
    assert_equal 200, res.code.to_i, res.body
    assert_includes res["content-type"], "text/plain"
    assert_match(/^fastepost_\w+\{source="odoo"(,[^}]*)?\} \d/, res.body)
  end

  # fastepost:odoo:pull and Fastepost::OdooPullJob against the fake Odoo server
  # (tests/fake_odoo), configured through the environment (ODOO_URL ...) with the key in a file.
  def check_odoo_pull
    port_file = File.join(@tmp, "odoo.port")
    fake = spawn("python3", File.join(ENV.fetch("FASTEPOST_SOURCE_DIR"), "tests/fake_odoo/fake_odoo.py"), port_file,
                 out: File::NULL, err: File.join(@tmp, "fake_odoo.log"))
    Timeout.timeout(30) { sleep 0.1 until File.size?(port_file) }
    odoo = "http://127.0.0.1:#{File.read(port_file).strip}"
    # The fake server exits after 30 s without a request; booting the app takes longer than
    # that under ASan, so keep it awake while the app starts.
    keep_awake = Thread.new do
      loop do
        Net::HTTP.get_response(URI("#{odoo}/web/version"))
        sleep 5
      end
    rescue SystemCallError, IOError
      nil
    end
    Net::HTTP.post(URI("#{odoo}/__admin/write"),
                   JSON.generate(model: "res.partner", values: { name: "Pulled Partner", email: "pulled@example.com" }),
                   "Content-Type" => "application/json")
    key = File.join(@tmp, "odoo-key")
    File.write(key, "fake-api-key", perm: 0o600)
    env = { "ODOO_URL" => odoo, "ODOO_DATABASE" => "fake", "ODOO_PULL_API_KEY_FILE" => key }
    report = JSON.parse(rails!(%w[fastepost:odoo:pull], env).lines.last)
    assert_equal 1, report.fetch("created"), report.inspect
    assert_equal "1", sql("SELECT count(*) FROM customers WHERE email = 'pulled@example.com'")
    out = rails!(["runner", "puts JSON.generate(Fastepost::OdooPullJob.perform_now)"], env)
    again = JSON.parse(out.lines.last)
    assert_equal 0, again.fetch("created"), "the job's pull changes nothing twice: #{again.inspect}"
    assert_equal "1", sql("SELECT count(*) FROM customers WHERE email = 'pulled@example.com'")
  ensure
    keep_awake&.kill
    if fake
      Process.kill("TERM", fake)
      Process.wait(fake)
    end
  end

  # The rake tasks and the jobs, performed inline in the app (bin/rails runner).
  def test_5_rake_tasks_and_jobs
    rails!(%w[db:migrate])
    backups = File.join(@tmp, "backups")
    name = rails!(%w[fastepost:backup]).lines.last.strip
    assert File.exist?(File.join(backups, name)), "rake fastepost:backup wrote #{name}"
    replay = JSON.parse(rails!(%w[fastepost:spool:replay]).lines.last)
    assert_kind_of Hash, replay
    assert_kind_of Hash, JSON.parse(rails!(%w[fastepost:events:retry]).lines.last)
    prune = JSON.parse(rails!(%w[fastepost:events:prune DAYS=7]).lines.last)
    assert_equal 0, prune.fetch("deleted")
    out, status = RailsApp.run(app_env("ODOO_URL" => nil), %w[bin/rails fastepost:odoo:pull], @app)
    refute status.success?, "the pull without an Odoo configuration fails"
    assert_includes out, "config.fastepost.odoo lacks url"
    check_odoo_pull

    script = <<~RUBY
      ActiveJob::Base.queue_adapter = :inline
      Fastepost::BackupJob.perform_later(format: "custom")
      puts JSON.generate(Fastepost::EventsRetryJob.perform_now)
      puts JSON.generate(Fastepost::SpoolReplayJob.perform_now)
    RUBY
    out = rails!(["runner", script])
    assert_equal 2, Fastepost::BackupDir.new(backups).list.size, "the job took a second backup"
    assert_equal 2, out.lines.count { |l| l.start_with?("{") }, out
  end
end
