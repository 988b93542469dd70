# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The Odoo pull and push from Ruby, against the stand-in Odoo server (tests/fake_odoo/).
require_relative "support"
require "json"
require "net/http"
require "tmpdir"

class TestOdooSync < DbTest
  FAKE = File.expand_path("../../../tests/fake_odoo/fake_odoo.py", __dir__)
  KEY = "fake-api-key"

  # One server for the file's tests (each test has its own tenant of it).
  def self.server_port
    @server_port ||= begin
      dir = Dir.mktmpdir("fp_rb_odoo")
      portfile = File.join(dir, "port")
      pid = Process.spawn("python3", FAKE, portfile, out: File::NULL, err: File::NULL)
      Minitest.after_run do
        Process.kill("TERM", pid)
        Process.wait(pid)
      end
      deadline = Time.now + 30
      sleep 0.05 until File.exist?(portfile) || Time.now > deadline
      raise "the fake Odoo server did not start" unless File.exist?(portfile)

      Integer(File.read(portfile))
    end
  end

  def setup
    super
    @url = "http://127.0.0.1:#{self.class.server_port}/t/#{@dbname}"
    @conn = Fastepost::Connection.new(@dsn)
    @conn.schema_install
  end

  def teardown
    @conn&.close
    super
  end

  def admin(cmd, **body)
    uri = URI("#{@url}/__admin/#{cmd}")
    res = Net::HTTP.post(uri, JSON.generate(body), "Content-Type" => "application/json")
    JSON.parse(res.body)["result"]
  end

  def test_pull_then_push_then_the_echo_changes_nothing
    admin("write", id: 1, values: { name: "Anna", email: "anna@rb.example" }, tx_start: "2026-01-01 10:00:01")
    pulled = @conn.odoo_pull(url: @url, api_key: KEY, database: "fake", protocol: "json2")
    assert_kind_of Fastepost::OdooPullReport, pulled
    assert_equal [1, 1], [pulled.fetched, pulled.created]
    assert_equal({ "res.partner" => 1_767_261_601 * 1_000_000 }, pulled.cursors.transform_keys(&:to_s))
    sql("UPDATE customers SET name = 'Anna Local' WHERE crm_id = 'res.partner:1'")
    pushed = @conn.odoo_push(url: @url, api_key: KEY, database: "fake", protocol: "json2")
    assert_equal({ status: "ok", attempted: 1, written: 1, created: 0, conflicts: 0, skipped: 0, failed: 0 },
                 pushed.to_h)
    rec = admin("record", id: 1)
    assert_equal "Anna Local", rec["name"]
    r = @conn.odoo_process(JSON.generate(rec.merge("_model" => "res.partner", "_id" => 1)), host_authenticated: true)
    assert_equal "unchanged", r.outcome
    assert_equal "0", sql("SELECT count(*) FROM fastepost_sync_outbox")
  end

  def test_conflicts_and_failures
    admin("write", id: 1, values: { name: "Bob" }, tx_start: "2026-01-01 10:00:01")
    @conn.odoo_pull(url: @url, api_key: KEY, database: "fake", user: "bot", protocol: "jsonrpc")
    sql("UPDATE customers SET name = 'Bob Local'")
    admin("race", id: 1, values: { name: "Bob in Odoo" })
    pushed = @conn.odoo_push(url: @url, api_key: KEY, database: "fake", user: "bot", protocol: "jsonrpc")
    assert_equal [1, 0], [pushed.conflicts, pushed.written]
    assert_equal "Bob in Odoo", admin("record", id: 1)["name"]
    sql("UPDATE customers SET name = 'Bob Again'")
    e = assert_raises(Fastepost::AuthError) do
      @conn.odoo_push(url: @url, api_key: "wrong-key-777", database: "fake", protocol: "json2")
    end
    refute_includes e.message, "wrong-key-777"
    assert_kind_of Fastepost::OdooPushReport, e.report
    assert_equal 1, e.report.failed
    assert_equal "1", sql("SELECT attempts FROM fastepost_sync_outbox")
    assert_raises(Fastepost::InvalidError) { @conn.odoo_push(url: @url, api_key: KEY, prefer: "newest") }
    assert_raises(Fastepost::InvalidError) { @conn.odoo_push(url: "ftp://odoo.example", api_key: KEY) }
  end
end
