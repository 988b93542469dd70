# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Export: formats, options, the sinks (String, path, IO), callbacks (progress block, exceptions
# in write and the block, break), a long export while another thread runs, UTF-8, GC.
require_relative "support"
require "csv"
require "json"
require "open3"
require "stringio"
require "tmpdir"

class ExportTest < DbTest
  NAMES = ["Zoë Ærø", "山田 太郎", "Anne \"Q\" O'Neil", "Max, Comma", "Ünal\nNewline"].freeze

  def setup
    super
    @conn = Fastepost.connect(@dsn)
    @conn.schema_install
    values = NAMES.each_with_index.map { |n, i| "($fp$#{n}$fp$, 'c#{i}@x.de')" }.join(", ")
    sql("INSERT INTO customers (name, email) VALUES #{values}, ('Other', 'o@y.com')")
  end

  def teardown
    @conn.close
    super
  end

  def test_result_has_the_keys_and_types_of_the_cli_json
    Dir.mktmpdir do |d|
      path = File.join(d, "c.ndjson")
      result = @conn.export("customers", path: path, format: :ndjson, limit: 4)
      assert_kind_of Fastepost::ExportResult, result
      assert_equal ["ndjson", path, 4, File.size(path)], [result.format, result.output, result.rows, result.bytes]
      out, = Open3.capture3(FastepostTest::CHILD_ENV, ENV.fetch("FASTEPOST_CLI"), "export", "--json", "--db", @dsn,
                            "--table", "customers", "--format", "ndjson", "--limit", "4", "--output", path)
      cli = JSON.parse(out, symbolize_names: true)
      assert_equal "ok", cli.delete(:status)
      assert_equal cli, result.to_h
      result.to_h.each { |k, v| assert_equal cli[k].class, v.class, k.to_s }
    end
  end

  def test_wrong_argument_types_raise_type_error
    [{ limit: "3" }, { limit: 2.5 }, { format: 1 }, { path: 42 }, { io: 42 }].each do |kw|
      assert_raises(TypeError, kw.inspect) { @conn.export("customers", **kw) }
    end
    assert_raises(TypeError) { @conn.export(42) }
    assert_raises(ArgumentError) { @conn.export("customers", limit: 0) }
  end

  def test_csv_as_string_with_columns_filter_order_limit
    out = @conn.export("customers", columns: %w[name email], where: [%w[email ilike %@X.DE]],
                                    order: "-id", limit: 3)
    assert_equal Encoding::UTF_8, out.encoding
    rows = CSV.parse(out)
    assert_equal %w[name email], rows[0]
    assert_equal NAMES.reverse.first(3), rows[1..].map(&:first)
  end

  def test_filter_forms
    out = @conn.export(:customers, format: :ndjson,
                                   where: ["email ilike %@y.com", [:crm_id, :is_null], [:active, "=", true]],
                                   order: [[:id, :asc]])
    assert_equal ["Other"], out.lines.map { |l| JSON.parse(l)["name"] }
    assert_equal 1, @conn.export("customers", format: :ndjson, where: { email: "o@y.com" }).lines.size
  end

  def test_json_round_trip_utf8
    out = @conn.export("customers", format: "json", columns: ["name"], order: "id")
    assert_equal NAMES + ["Other"], JSON.parse(out).map { |r| r["name"] }
  end

  def test_path_and_io
    Dir.mktmpdir do |d|
      path = File.join(d, "c.csv")
      @conn.export("customers", path: path, order: "id")
      assert_equal 0o600, File.stat(path).mode & 0o777
      expected = File.binread(path).force_encoding(Encoding::UTF_8)
      io = StringIO.new
      @conn.export("customers", io: io, order: "id")
      assert_equal expected, io.string
      File.open(File.join(d, "d.csv"), "w") { |f| @conn.export("customers", io: f, order: "id") }
      assert_equal expected.b, File.binread(File.join(d, "d.csv"))
      assert_equal expected, @conn.export("customers", order: "id")
    end
  end

  def test_export_all
    Dir.mktmpdir do |d|
      n = @conn.export_all(File.join(d, "out"), format: :ndjson)
      files = Dir.children(File.join(d, "out"))
      assert_equal files.size, n
      assert_includes files, "customers.ndjson"
    end
  end

  def test_errors
    assert_raises(Fastepost::NotFoundError) { @conn.export("no_such_table") }
    assert_raises(Fastepost::NotFoundError) { @conn.export("customers", columns: ["nope"]) }
    e = assert_raises(Fastepost::InvalidError) { @conn.export("customers", where: [["id", "=", "1; DROP TABLE customers"]]) }
    assert_match(/integer/, e.message)
    assert_raises(Fastepost::InvalidError) { @conn.export("customers", format: :xml) }
    assert_raises(Fastepost::InvalidError) { @conn.export("customers", where: [%w[id ~~ 1]]) }
    assert_raises(Fastepost::InvalidError) { @conn.export(nil) }
    assert_equal "6", sql("SELECT count(*) FROM customers")
  end

  def test_progress_block
    calls = []
    @conn.export("customers") { |rows, bytes| calls << [rows, bytes] }
    refute_empty calls
    assert_equal 6, calls.last[0]
    assert_operator calls.last[1], :>, 0
    assert_raises(Fastepost::CanceledError) { @conn.export("customers") { false } }
    assert @conn.ping
  end

  class Boom < StandardError; end

  def test_exception_in_write_propagates
    calls = 0
    sink = Object.new
    sink.define_singleton_method(:write) do |_chunk|
      calls += 1
      raise Boom, "disk full"
    end
    e = assert_raises(Boom) { @conn.export("customers", io: sink) }
    assert_equal "disk full", e.message
    assert_equal 1, calls, "no callback after the first exception"
    assert_includes @conn.export("customers"), "Other"
  end

  def test_exception_and_break_in_progress
    assert_raises(KeyError) { @conn.export("customers") { raise KeyError, "stop" } }
    # break leaves the export call, with its value, through the library's frames.
    assert_equal(:broke, @conn.export("customers") { break :broke })
    caught = catch(:done) { @conn.export("customers") { throw :done, :thrown } }
    assert_equal :thrown, caught
    assert @conn.ping
    Dir.mktmpdir do |d|
      path = File.join(d, "c.csv")
      assert_raises(ZeroDivisionError) { @conn.export("customers", path: path) { 1 / 0 } }
      refute File.exist?(path)
    end
  end

  def test_ticker_runs_during_a_long_export
    sql("INSERT INTO customers (name, email) SELECT 'n' || g, 'e' || g || '@z.de' FROM generate_series(1, 200000) g")
    ticks = 0
    running = true
    ticker = Thread.new do
      while running
        ticks += 1
        sleep 0.002
      end
    end
    written = 0
    sink = Object.new
    sink.define_singleton_method(:write) { |chunk| written += chunk.bytesize }
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    @conn.export("customers", format: :ndjson, io: sink, order: ["-email", "name"])
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    running = false
    ticker.join
    assert_operator written, :>, 200_000 * 20
    assert_operator ticks, :>, [5, elapsed / 0.002 / 10].max, "only #{ticks} ticks in #{elapsed.round(2)}s"
  end

  def test_gc_in_callbacks_and_any_order
    conn = Fastepost.connect(@dsn)
    sink = Object.new
    sink.define_singleton_method(:write) do |_chunk|
      Array.new(1000) { Object.new }
      GC.start
    end
    conn.export("customers", io: sink) { GC.start }
    out = conn.export("customers", format: :json)
    conn = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal 6, JSON.parse(out).size
    sink = nil # rubocop:disable Lint/UselessAssignment
    GC.start
  end
end
