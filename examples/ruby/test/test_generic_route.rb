# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The Rack example's generic route, POST /api/v1/integrations/:source, over real HTTP
# (server.rb under WEBrick in a child process) for every CRM source: its ok fixture -> 2xx and a
# customer; no configuration or wrong credentials -> refused and nothing written; monday.com's
# challenge echoed. The requests are those of bindings/ruby/test/webhook_fixtures.rb.
require "support"
require "webhook_fixtures"
require "net/http"
require "json"
require "tmpdir"
require "fileutils"

class TestRackGenericRoute < DbTest
  FX = WebhookFixtures
  SERVER = File.expand_path("../server.rb", __dir__)

  def setup
    super
    Fastepost::Connection.open(@dsn, &:schema_install)
    @servers = []
    @tmp = Dir.mktmpdir
    @have, @missing = FX.available
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

  def written = sql("SELECT (SELECT count(*) FROM integration_events) + (SELECT count(*) FROM customers)").to_i

  # Start server.rb with this webhook configuration (a Hash, written to a file; nil: none).
  def start_server(config, metrics_token: nil)
    env = { "DATABASE_URL" => @dsn, "RUBYLIB" => $LOAD_PATH.join(File::PATH_SEPARATOR), "ODOO_API_KEY" => nil,
            "HUBSPOT_CLIENT_SECRET" => nil, "FASTEPOST_SPOOL_DIR" => File.join(@tmp, "spool"),
            "PUBLIC_URL" => FX::BASE_URL, "FASTEPOST_WEBHOOK_CONFIG" => nil, "FASTEPOST_WEBHOOK_CONFIG_JSON" => nil,
            "FASTEPOST_METRICS_TOKEN" => metrics_token }
    if config
      path = File.join(@tmp, "config-#{@servers.size}.json")
      File.write(path, JSON.generate(config))
      env["FASTEPOST_WEBHOOK_CONFIG"] = path
    end
    out, child_out = IO.pipe
    pid = spawn(env, RbConfig.ruby, SERVER, "--port", "0", out: child_out)
    child_out.close
    @servers << [pid, out]
    line = out.gets or flunk "server.rb exited before listening"
    line[%r{listening on (http://\S+)}, 1]
  end

  # POST the request; [status, content type, body].
  def post(base, req, body: req.body, headers: req.headers)
    uri = URI(base + req.path)
    Net::HTTP.start(uri.host, uri.port, read_timeout: 30) do |http|
      post = Net::HTTP::Post.new(uri, headers)
      post.body = body
      res = http.request(post)
      [res.code.to_i, res["content-type"], res.body]
    end
  end

  # The request again, for HubSpot signed for the URL this server sees.
  def fresh(req) = req.source == "hubspot" ? FX.hubspot(url: FX::BASE_URL + req.path) : req

  def get(base, path, headers = {})
    uri = URI(base + path)
    Net::HTTP.start(uri.host, uri.port, read_timeout: 30) do |http|
      res = http.request(Net::HTTP::Get.new(uri, headers))
      [res.code.to_i, res["content-type"], res.body]
    end
  end

  # GET /metrics: off without a token (404), 401 without or with a wrong bearer token, the
  # Prometheus text with it (docs/metrics.md).
  def test_metrics_only_with_the_token
    assert_equal 404, get(start_server(nil), "/metrics")[0]
    base = start_server(@have.map(&:config).reduce({}, :merge), metrics_token: "s3cret-scrape")
    assert_equal 401, get(base, "/metrics")[0]
    assert_equal 401, get(base, "/metrics", "Authorization" => "Bearer wrong")[0]
    status, type, body = get(base, "/metrics", "Authorization" => "Bearer s3cret-scrape")
    assert_equal 200, status, body
    assert type.start_with?("text/plain; version=0.0.4"), type
    @have.each { |req| assert_includes body, %(fastepost_crm_events{source="#{req.source}",status="success"}) }
    assert_includes body, "fastepost_spool_entries 0\n"
  end

  def test_every_source
    base = start_server(@have.map(&:config).reduce({}, :merge))
    @have.each do |req|
      status, type, body = post(base, fresh(req))
      assert_includes 200..299, status, "#{req.source}: #{body}"
      refute_empty body
      refute_nil type
      assert_equal "1", sql("SELECT count(*) FROM customers WHERE crm_id = '#{req.expect}'"),
                   "#{req.source}: no customer #{req.expect}"
    end
    status, = post(base, Struct.new(:path, :body, :headers).new("/api/v1/integrations/acme", "{}", {}))
    assert_equal 404, status
    assert_empty @missing, "sources without tests/fixtures/<source>/ok.*: #{@missing.join(", ")}"
  end

  def test_refused_without_configuration_or_with_wrong_credentials
    none = start_server(nil)
    @have.each do |req|
      status, _, body = post(none, fresh(req))
      assert_equal 401, status, "#{req.source} without configuration: #{body}"
    end
    wrong = @have.filter_map(&:wrong_config)
    base = start_server(wrong.reduce({}, :merge))
    @have.select(&:wrong_config).each do |req|
      status, _, body = post(base, fresh(req))
      assert_includes [400, 401], status, "#{req.source} with wrong credentials: #{body}"
    end
    # Credentials left out of the request (the configuration is right).
    right = start_server(@have.map(&:config).reduce({}, :merge))
    @have.each do |req|
      headers = fresh(req).headers.reject { |k, _| k.match?(/authorization|api-key|signature/i) }
      next if headers.size == fresh(req).headers.size # credentials in the body: covered above

      status, = post(right, fresh(req), headers: headers)
      assert_equal 401, status, "#{req.source} without its credential header"
    end
    assert_equal 0, written, "a refused request writes nothing"
  end

  def test_monday_challenge
    config, body = FX.challenge
    base = start_server(config)
    req = Struct.new(:path, :body, :headers).new("/api/v1/integrations/monday", body, { "Content-Type" => "application/json" })
    status, type, answer = post(base, req)
    assert_equal 200, status, answer
    assert_includes type, "application/json"
    assert_equal JSON.parse(body), JSON.parse(answer)
    assert_equal 0, written
  end
end
