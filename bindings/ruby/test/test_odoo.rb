# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Odoo webhook processing, the event log and HubSpot processing from Ruby.
require_relative "support"
require "json"
require "tmpdir"

class TestOdoo < DbTest
  FIXTURES = File.expand_path("../../../tests/fixtures/odoo", __dir__)
  KEY = "odoo-test-key-1"
  # Processing checks the key itself: the tests present the one they configure.
  AUTH = { api_key: KEY, expected_keys: [KEY] }.freeze

  def setup
    super
    @conn = Fastepost::Connection.new(@dsn)
    @conn.schema_install
  end

  def teardown
    @conn&.close
    super
  end

  def partner(pid: 1, email: "a@example.de", name: "Anna", write_date: "2024-05-03 10:00:00")
    JSON.generate({ _model: "res.partner", _id: pid, id: pid, name: name, email: email, write_date: write_date })
  end

  def test_every_outcome
    r = @conn.odoo_process(partner, **AUTH)
    assert_kind_of Fastepost::EventResult, r
    assert_equal ["created", "ok", 200, 0, true, nil], [r.outcome, r.status, r.http_status, r.code, r.ok?, r.error]
    assert_operator r.customer_id, :>, 0
    assert_equal "duplicate", @conn.odoo_process(partner, **AUTH).outcome
    assert_equal "updated", @conn.odoo_process(partner(name: "Anna B", write_date: "2024-05-04 10:00:00"), **AUTH).outcome
    assert_equal "unchanged", @conn.odoo_process(partner(name: "Anna B", write_date: "2024-05-05 10:00:00"), **AUTH).outcome
    assert_equal "stale", @conn.odoo_process(partner(name: "Old", write_date: "2024-01-01 10:00:00"), **AUTH).outcome
    assert_equal "ignored", @conn.odoo_process('{"_model": "sale.order", "_id": 9, "name": "S9"}', **AUTH).outcome
    assert_equal "created", r.to_h[:outcome]
    refute r.to_h.key?(:type)
    assert_equal "updated", @conn.odoo_process(partner(write_date: "2024-06-01 00:00:00"), event: :unlink, **AUTH).outcome
    assert_equal "f", sql("SELECT active FROM customers")
  end

  def test_exceptions_carry_the_result
    e = assert_raises(Fastepost::ParseError) { @conn.odoo_process('{"_model": "res.partner", "id": 1,', **AUTH) }
    assert_equal [400, 400, "FASTEPOST_EPARSE"], [e.http_status, e.result.http_status, e.result.status]
    assert_includes e.result.error, "at byte"
    e = assert_raises(Fastepost::TooBigError) { @conn.odoo_process(partner, max_body: 10, **AUTH) }
    assert_equal 413, e.result.http_status
    @conn.odoo_process(partner(pid: 1), **AUTH)
    e = assert_raises(Fastepost::ConflictError) { @conn.odoo_process(partner(pid: 2), **AUTH) }
    assert_equal [409, "conflict"], [e.http_status, e.result.outcome]
    e = assert_raises(Fastepost::InvalidError) { @conn.odoo_process(partner, event: "explode", **AUTH) }
    assert_equal [400, nil], [e.http_status, e.result]
    assert_raises(Fastepost::ParseError) { @conn.odoo_process("\xff\xfe".b, **AUTH) }
    status = begin
      @conn.odoo_process("nope", **AUTH)
    rescue Fastepost::Error => e
      e.result ? e.result.http_status : e.http_status
    end
    assert_equal 400, status
  end

  def count(table) = Integer(sql("SELECT count(*) FROM #{table}"))

  # A refused request: exc, HTTP 401 on the exception and its result, nothing written.
  def assert_refused(exc, **options)
    before = [count("integration_events"), count("customers")]
    e = assert_raises(exc) { @conn.odoo_process(partner(pid: 7, email: "k@x.de"), **options) }
    assert_equal [401, 401], [e.http_status, e.result.http_status]
    refute_includes e.message, KEY
    assert_equal before, [count("integration_events"), count("customers")]
  end

  def test_api_key
    saved = ENV.delete("ODOO_API_KEY")
    # No key configured: every request is refused.
    assert_refused(Fastepost::NoKeyError, api_key: KEY)
    assert_refused(Fastepost::NoKeyError, api_key: KEY, expected_keys: [])
    assert_refused(Fastepost::NoKeyError)
    # A missing, nil, empty or wrong key is a 401 AuthError, never a skip.
    assert_refused(Fastepost::AuthError, expected_keys: [KEY])
    assert_refused(Fastepost::AuthError, api_key: nil, expected_keys: [KEY])
    assert_refused(Fastepost::AuthError, api_key: "", expected_keys: [KEY])
    assert_refused(Fastepost::AuthError, api_key: "wrong", expected_keys: [KEY])
    assert_refused(Fastepost::AuthError, api_key: "#{KEY}\0", expected_keys: [KEY])
    assert_raises(Fastepost::InvalidError) { @conn.odoo_process(partner, api_key: KEY, expected_keys: [""]) }
    assert_equal 0, count("integration_events")
    # The right key, one of several while rotating, or from ODOO_API_KEY read at call time.
    assert @conn.odoo_process(partner, api_key: KEY, expected_keys: KEY).ok?
    assert_equal "duplicate", @conn.odoo_process(partner, api_key: "new-key", expected_keys: [KEY, "new-key"]).outcome
    ENV["ODOO_API_KEY"] = "from-env"
    assert_equal "duplicate", @conn.odoo_process(partner, api_key: "from-env").outcome
    assert_refused(Fastepost::AuthError, api_key: KEY)
    ENV.delete("ODOO_API_KEY")
    assert_refused(Fastepost::NoKeyError, api_key: "from-env")
    # The module function, also with a spool: a refused request is never spooled.
    Dir.mktmpdir do |tmp|
      dir = File.join(tmp, "spool")
      assert_raises(Fastepost::AuthError) do
        Fastepost.odoo_process(partner(pid: 3), api_key: "wrong", expected_keys: [KEY], spool: dir)
      end
      assert_empty Fastepost::Spool.new(dir).list
    end
    assert_equal "created", Fastepost.odoo_process(partner(pid: 3, email: "c@x.de"), conn: @conn, **AUTH).outcome
    # The explicit opt-out: the host authenticated the request itself.
    assert_equal "created", @conn.odoo_process(partner(pid: 4, email: "d@x.de"), host_authenticated: true).outcome
    assert_equal 3, count("integration_events")
    assert Fastepost.odoo_authenticate("k", "k")
    assert_raises(Fastepost::NoKeyError) { Fastepost.odoo_authenticate(nil, "k") }
    assert_equal [200, 401, 503], [0, Fastepost::AuthError::CODE, Fastepost::BusyError::CODE].map { |c| Fastepost.status_http(c) }
  ensure
    saved.nil? ? ENV.delete("ODOO_API_KEY") : ENV["ODOO_API_KEY"] = saved
  end

  def test_batch_refuses_each_delivery_without_its_key
    rs = @conn.odoo_process_batch([partner(pid: 1, email: "a@x.de"), partner(pid: 2, email: "b@x.de"),
                                   partner(pid: 3, email: "c@x.de")], api_key: [KEY, nil, "wrong"], expected_keys: [KEY])
    assert_equal [["ok", 200], ["FASTEPOST_EAUTH", 401], ["FASTEPOST_EAUTH", 401]], rs.map { |r| [r.status, r.http_status] }
    rs = @conn.odoo_process_batch([partner(pid: 5, email: "e@x.de")], api_key: KEY, expected_keys: [])
    assert_equal "FASTEPOST_ENOKEY", rs.first.status
    assert_raises(Fastepost::InvalidError) { @conn.odoo_process_batch([partner], api_key: [KEY, KEY], expected_keys: [KEY]) }
    assert_equal 1, count("customers")
  end

  def test_utf8_round_trip
    name = "Jürgen Müller-Straße 🌟"
    r = @conn.odoo_process(partner(name: name, email: "juergen@example.de"), **AUTH)
    assert r.ok?
    assert_equal name, sql("SELECT name FROM customers")
    r = @conn.odoo_process(File.binread(File.join(FIXTURES, "partner_webhook.json")), **AUTH)
    assert_equal "created", r.outcome
    assert_equal "Jürgen Müller 🌟", sql("SELECT name FROM customers WHERE id = #{r.customer_id}")
    # A body in another encoding is taken as its bytes (the library checks UTF-8).
    e = assert_raises(Fastepost::ParseError) { @conn.odoo_process(partner(name: "Jürgen").encode("ISO-8859-1"), **AUTH) }
    assert_equal Encoding::UTF_8, e.result.error.encoding
    ev = @conn.events(source: :odoo, limit: 1).first
    assert_equal Encoding::UTF_8, ev.event_type.encoding
  end

  # Issue 14 item 7: one shape for a result in the CLI's --json and in to_h.
  def test_results_have_the_keys_and_types_of_the_cli_json
    core = $LOADED_FEATURES.find { |f| f.end_with?("fastepost/core.so") }
    cli = core && File.expand_path("../../../fastepost", File.dirname(core))
    skip "the fastepost CLI is not built next to the binding" unless cli && File.executable?(cli)
    require "json"
    require "open3"
    run = lambda do |*args, stdin: ""|
      out, = Open3.capture2({ "ODOO_API_KEY" => AUTH[:expected_keys].first }, cli, *args, "--db", @dsn, "--json",
                            stdin_data: stdin)
      JSON.parse(out, symbolize_names: true)
    end
    shape = ->(h) { h.transform_values { |v| v.class } }
    via_cli = run.call("odoo", "process", "-", stdin: partner(pid: 5, email: "cli@x.de"))
    via_rb = @conn.odoo_process(partner(pid: 6, email: "rb@x.de"), **AUTH).to_h
    assert_equal shape.call(via_cli), shape.call(via_rb)
    assert_equal shape.call(run.call("events", "retry")), shape.call(@conn.events_retry.to_h)
    cli_events = run.call("events", "list")
    rb_events = @conn.events.map(&:to_h)
    assert_equal cli_events.map(&shape), rb_events.map(&shape)
    assert_equal cli_events.first[:created_at_us], rb_events.first[:created_at_us]
  end

  def test_batch_events_and_retry
    rs = @conn.odoo_process_batch([partner(pid: 1, email: "a@x.de"), "{broken", partner(pid: 2, email: "b@x.de")], **AUTH)
    assert_kind_of Fastepost::EventBatch, rs
    assert_equal ["created", nil, "created"], rs.map(&:outcome)
    assert_equal %w[ok FASTEPOST_EPARSE ok], rs.map(&:status)
    assert_equal [3, 3, 1, 200, nil], [rs.size, rs.count, rs.failed, rs.http_status, rs.error]
    assert_equal [[0, "res.partner", 1], [1, "unknown", nil], [2, "res.partner", 2]],
                 rs.map { |r| [r.index, r.event_type, r.object_id] }
    assert_equal "created", rs[2].outcome
    events = @conn.events
    assert_equal 3, events.size
    assert_kind_of Fastepost::Event, events.first
    assert_equal 1, @conn.events(status: "error").size
    assert_empty @conn.events(source: "hubspot")
    assert_equal 3, @conn.events(limit: 0).size, "0: the library's default limit"
    assert_raises(Fastepost::InvalidError) { @conn.events(limit: -1) }
    assert_kind_of Integer, events.first.created_at_us
    assert_operator events.first.created_at_us, :>, 1_700_000_000 * 10**6
    assert_equal({ status: "ok", attempted: 0, succeeded: 0, failed: 0, dead: 0 }, @conn.events_retry(limit: 10).to_h)
    assert_raises(TypeError) { @conn.odoo_process_batch([nil], **AUTH) }
    assert_raises(TypeError) { Fastepost::Core.odoo_process_batch(@conn.send(:core), [1], nil, nil, 0, nil, nil, 0, 0, nil) }
  end

  def test_gc_order
    conn = Fastepost::Connection.new(@dsn)
    r = conn.odoo_process(partner, **AUTH)
    err = assert_raises(Fastepost::ParseError) { conn.odoo_process("[", **AUTH) }
    conn = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal "created", r.outcome
    assert_equal "FASTEPOST_EPARSE", err.result.status
  end

  def test_thread_runs_during_processing
    hold_lock("customers", 1)
    r, during, elapsed = ticks_during { @conn.odoo_process(partner, **AUTH) }
    assert_equal "created", r.outcome
    assert_operator elapsed, :>, 0.4
    assert_operator during, :>, 20, "only #{during} ticks in #{elapsed.round(2)}s"
  end

  SECRET = "hs-secret"
  URI = "https://crm.example.de/api/v1/integrations/hubspot"

  def hubspot(events, **kw)
    body = JSON.generate(events)
    ts = (Time.now.to_f * 1000).to_i.to_s
    sig = Fastepost.hubspot_sign(secret: SECRET, method: "POST", uri: URI, timestamp: ts, body: body)
    @conn.hubspot_process(body, **{ secrets: [SECRET], uri: URI, timestamp: ts, signature: sig }.merge(kw))
  end

  def test_hubspot_process
    now = (Time.now.to_f * 1000).to_i
    events = [{ eventId: 1, subscriptionId: 5, portalId: 7, appId: 9, occurredAt: now,
                subscriptionType: "contact.creation", objectId: 101, attemptNumber: 0 }]
    b = hubspot(events)
    assert_kind_of Fastepost::HubSpotBatch, b
    assert_equal [200, "ok", 1, 0], [b.http_status, b.status, b.count, b.failed]
    assert_equal [["contact.creation", 101]], b.events.map { |e| [e.type, e.object_id] }
    assert_equal "contact.creation", b.to_h[:events][0][:event_type]
    assert_equal 0, b.to_h[:events][0][:index]
    assert_equal "duplicate", hubspot(events).events[0].outcome
    e = assert_raises(Fastepost::AuthError) { hubspot([], signature: "bogus") }
    assert_equal [401, 401], [e.http_status, e.result.http_status]
    assert_raises(Fastepost::NoKeyError) { hubspot([], secrets: []) }
    # nil or "" for the secret or the signature never skips verification, and writes nothing.
    before = sql("SELECT count(*) FROM integration_events")
    assert_raises(Fastepost::NoKeyError) { hubspot(events, secrets: nil) }
    assert_raises(Fastepost::InvalidError) { hubspot(events, secrets: "") }
    assert_raises(Fastepost::InvalidError) { hubspot(events, secrets: [""]) }
    e = assert_raises(Fastepost::AuthError) { hubspot(events, signature: nil) }
    assert_equal 401, e.http_status
    assert_raises(Fastepost::AuthError) { hubspot(events, signature: "") }
    assert_raises(Fastepost::AuthError) { hubspot(events, timestamp: nil) }
    assert_equal before, sql("SELECT count(*) FROM integration_events")
    e = assert_raises(Fastepost::TooBigError) { hubspot([{ eventId: 1 }, { eventId: 2 }], max_events: 1) }
    assert_equal 413, e.http_status
  end
end
