# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The delivery spool from Ruby: spooling when PostgreSQL is unreachable, replay.
require_relative "support"
require "json"
require "tmpdir"
require "fileutils"

class TestSpool < DbTest
  # Processing checks the key itself: the tests present the one they configure.
  AUTH = { api_key: "sekrit-key", expected_keys: ["sekrit-key"] }.freeze

  def setup
    super
    @tmp = Dir.mktmpdir
    @dir = File.join(@tmp, "spool")
    @conn = Fastepost::Connection.new(@dsn)
    @conn.schema_install
  end

  def teardown
    @conn&.close
    FileUtils.rm_rf(@tmp)
    super
  end

  def partner(pid: 1, name: "Anna", email: "a@example.de")
    JSON.generate({ _model: "res.partner", _id: pid, id: pid, name: name, email: email, write_date: "2024-05-03 10:00:00" })
  end

  def test_unreachable_database_spools_202_without_the_key
    assert_raises(Fastepost::ConnectionError) { Fastepost::Connection.new("host=#{@tmp}/nosocket dbname=x connect_timeout=2") }
    r = Fastepost.odoo_process(partner, spool: @dir, api_key: "sekrit-key", expected_keys: ["sekrit-key"], event: :write)
    assert_equal [0, "spooled", 202, true], [r.code, r.outcome, r.http_status, r.ok?]
    assert_equal 202, r.to_h[:http_status]
    entries = Fastepost::Spool.new(@dir).list
    assert_equal 1, entries.size
    e = entries.first
    assert_equal ["odoo", "write", "application/json", partner.bytesize], [e.source, e.event, e.content_type, e.bytes]
    assert e.spooled_at.utc?
    assert_in_delta Time.now.to_f, e.spooled_at.to_f, 60
    assert_equal e.name, e.to_h[:name]
    refute_includes File.binread(File.join(@dir, e.name)), "sekrit-key"
    assert_equal 0o700, File.stat(@dir).mode & 0o777
    assert_raises(Fastepost::AuthError) { Fastepost.odoo_process(partner, spool: @dir, api_key: "bad", expected_keys: ["sekrit-key"]) }
    assert_equal 1, Fastepost::Spool.new(@dir).list.size
    assert_raises(Fastepost::InvalidError) { Fastepost.odoo_process(partner, **AUTH) }
  end

  def test_connection_method_with_spool_and_replay_exactly_once
    s = Fastepost::Spool.new(@dir)
    ok = @conn.odoo_process(partner(pid: 7), spool: s, **AUTH)
    assert_equal ["created", 200], [ok.outcome, ok.http_status]
    assert_empty s.list
    s.put(partner(pid: 7)) # as if the connection broke after the commit
    assert_equal "spooled", Fastepost.odoo_process(partner(pid: 8, email: "b@example.de"), spool: s, **AUTH).outcome
    assert_equal 2, s.list.size
    rep = s.replay(@conn)
    assert_kind_of Fastepost::SpoolReplayReport, rep
    assert_equal({ status: "ok", replayed: 2, duplicates: 1, rejected: 0, remaining: 0 }, rep.to_h)
    assert_equal "2", sql("SELECT count(*) FROM customers")
    assert_empty s.list
    assert_equal({ status: "ok", replayed: 0, duplicates: 0, rejected: 0, remaining: 0 }, s.replay(@conn).to_h)
    assert_equal "2", sql("SELECT count(*) FROM customers")
  end

  def test_replay_limit_and_options
    s = Fastepost::Spool.new(@dir)
    3.times { |i| s.put(partner(pid: i + 1, email: "c#{i}@example.de"), event: :create) }
    assert_equal({ status: "ok", replayed: 1, duplicates: 0, rejected: 0, remaining: 2 }, s.replay(@conn, limit: 1).to_h)
    assert_equal 0, s.replay(@conn).remaining
    assert_raises(Fastepost::InvalidError) { @conn.odoo_process(partner, max_depth: 1, **AUTH) }
    assert_raises(Fastepost::ParseError) { @conn.odoo_process('{"a": [[[[1]]]]}', max_depth: 3, **AUTH) }
    assert_equal "created", @conn.odoo_process(partner(pid: 9, email: "d@example.de"), barcode_fields: "x_barcode", **AUTH).outcome
    assert_raises(Fastepost::InvalidError) { @conn.odoo_process_batch([partner], barcode_fields: "", **AUTH) }
  end

  def test_full_spool
    s = Fastepost::Spool.new(@dir, max_files: 1)
    s.put(partner)
    e = assert_raises(Fastepost::FullError) { Fastepost.odoo_process(partner(pid: 2), spool: s, **AUTH) }
    assert_equal 503, e.http_status
    assert_includes e.message, "full"
    assert_raises(Fastepost::FullError) { Fastepost::Spool.new(@dir, max_bytes: 10).put(partner) }
    assert_equal 1, Dir.children(@dir).size
    assert_raises(Fastepost::InvalidError) { s.put("{}", source: "nosuch") }
    Fastepost::Spool.new(@dir, max_files: 0) # 0: the default limit
    assert_raises(RangeError, TypeError, Fastepost::InvalidError) { Fastepost::Spool.new(@dir, max_files: -1) }
  end

  def test_damaged_record_set_aside_listed_and_requeued
    s = Fastepost::Spool.new(@dir)
    assert_nil s.warning
    name = s.put(partner(pid: 3, name: "P51"))
    path = File.join(@dir, name)
    data = File.binread(path)
    File.binwrite(path, data.sub("P51", "Q51")) # one byte changed, same length
    rep = s.replay(@conn)
    assert_equal [0, 1], [rep.replayed, rep.rejected]
    bad = s.list_bad
    assert_equal 1, bad.size
    assert bad[0].reason.start_with?("altered:"), bad[0].reason
    File.binwrite("#{path}.bad", data)
    assert_equal bad[0].name, s.requeue(bad[0].name)
    assert_empty s.list_bad
    assert_equal 1, s.replay(@conn).replayed
    assert_raises(Fastepost::NotFoundError) { s.requeue(name) }
  end

  def test_open_directory_warns_but_accepted_deliveries_succeed
    FileUtils.mkdir_p(@dir)
    File.chmod(0o777, @dir)
    s = Fastepost::Spool.new(@dir)
    assert_includes s.warning, "chmod 700"
    assert_equal "created", @conn.odoo_process(partner(pid: 4), spool: s, **AUTH).outcome
    e = assert_raises(Fastepost::FullError) { Fastepost.odoo_process(partner(pid: 5), spool: s, **AUTH) }
    assert_equal 503, e.http_status
  end

  def test_gc_order
    r = Fastepost.odoo_process(partner, spool: Fastepost::Spool.new(@dir), **AUTH)
    entries = Fastepost::Spool.new(@dir).list
    GC.start
    assert_equal ["spooled", "odoo"], [r.outcome, entries.first.source]
    conn = Fastepost::Connection.new(@dsn)
    rep = Fastepost::Spool.new(@dir).replay(conn)
    conn.close
    conn = nil
    GC.start
    assert_equal 1, rep.replayed
    assert_equal "1", sql("SELECT count(*) FROM customers")
  end

  def test_utf8_round_trip
    s = Fastepost::Spool.new(@dir)
    body = partner(name: "Jürgen Groß 🚲")
    assert_equal "spooled", Fastepost.odoo_process(body.encode("UTF-8"), spool: s, **AUTH).outcome
    assert_equal body.bytesize, s.list.first.bytes
    s.replay(@conn)
    assert_equal "Jürgen Groß 🚲", sql("SELECT name FROM customers")
    assert_includes s.inspect, "spool"
  end

  def test_thread_runs_during_replay
    s = Fastepost::Spool.new(@dir)
    s.put(partner)
    hold_lock("customers", 1)
    rep, during, elapsed = ticks_during { s.replay(@conn) }
    assert_equal 1, rep.replayed
    assert_operator elapsed, :>, 0.4
    assert_operator during, :>, 20, "only #{during} ticks in #{elapsed.round(2)}s"
  end
end
