# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The Rails glue's generic route, POST /api/v1/integrations/:source, in the stock Rails app
# (stock_app.rb under WEBrick) over real HTTP for every CRM source: its ok fixture -> 2xx and a
# customer; no configuration or a missing credential -> 401 and nothing written; monday.com's
# challenge echoed; the answer's content type as the library chose it. The requests are those of
# bindings/ruby/test/webhook_fixtures.rb.
require "support"
require "webhook_fixtures"
require "tmpdir"
require "json"
require "net/http"
require "timeout"

class TestRailsGenericRoute < DbTest
  FX = WebhookFixtures
  APP = File.expand_path("stock_app.rb", __dir__)

  def setup
    super
    @tmp = Dir.mktmpdir("fp-rails-generic")
    @server = nil
    @have, @missing = FX.available
    Fastepost::Connection.open(@dsn, &:schema_install)
  end

  def teardown
    stop_server
    FileUtils.remove_entry(@tmp)
    super
  end

  def written = sql("SELECT (SELECT count(*) FROM integration_events) + (SELECT count(*) FROM customers)").to_i

  # Boot the app with this webhook configuration (a Hash, given as FASTEPOST_WEBHOOK_CONFIG_JSON;
  # nil: none and no 1.0 keys either).
  def start_server(config)
    out, child_out = IO.pipe
    env = { "DATABASE_URL" => @dsn, "RUBYLIB" => $LOAD_PATH.join(File::PATH_SEPARATOR), "ODOO_API_KEY" => nil,
            "HUBSPOT_CLIENT_SECRET" => nil, "FASTEPOST_SPOOL_DIR" => File.join(@tmp, "spool"),
            "PUBLIC_URL" => FX::BASE_URL, "FASTEPOST_WEBHOOK_CONFIG" => nil,
            "FASTEPOST_WEBHOOK_CONFIG_JSON" => config && JSON.generate(config), "RAILS_ENV" => nil }
    pid = spawn(env, RbConfig.ruby, APP, "--port", "0", "--log", File.join(@tmp, "rails.log"), out: child_out)
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

  def post(path, body, headers)
    Net::HTTP.start(@base.host, @base.port, read_timeout: 60) do |http|
      req = Net::HTTP::Post.new(path, headers)
      req.body = body
      res = http.request(req)
      [res.code.to_i, res["content-type"], res.body]
    end
  end

  def fresh(req) = req.source == "hubspot" ? FX.hubspot(url: FX::BASE_URL + req.path) : req

  def test_every_source_and_refusals
    start_server(@have.map(&:config).reduce({}, :merge))
    @have.each do |req|
      req = fresh(req)
      stripped = req.headers.reject { |k, _| k.match?(/authorization|api-key|signature/i) }
      if stripped.size < req.headers.size
        status, = post(req.path, req.body, stripped)
        assert_equal 401, status, "#{req.source} without its credential header"
      end
      status, type, body = post(req.path, req.body, req.headers)
      assert_includes 200..299, status, "#{req.source}: #{body}"
      refute_nil type
      assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = '#{req.expect}'"),
                   "#{req.source}: no customer #{req.expect}"
    end
    _, challenge = FX.challenge
    if @have.any? { |r| r.source == "monday" }
      status, type, body = post("/api/v1/integrations/monday", challenge, "Content-Type" => "application/json")
      assert_equal [200, JSON.parse(challenge)], [status, JSON.parse(body)], body
      assert_includes type, "application/json"
    end
    assert_equal 404, post("/api/v1/integrations/acme", "{}", {})[0]
    assert_empty @missing, "sources without tests/fixtures/<source>/ok.*: #{@missing.join(", ")}"
  end

  def test_refused_without_configuration
    start_server(nil)
    @have.each do |req|
      req = fresh(req)
      status, _, body = post(req.path, req.body, req.headers)
      assert_equal 401, status, "#{req.source} without configuration: #{body}"
    end
    assert_equal 0, written, "a refused request writes nothing"
  end
end
