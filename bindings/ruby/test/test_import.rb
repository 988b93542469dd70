# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# import_csv: sources (path, IO), options, the report, failures carrying the report, callbacks
# (progress block, exceptions in read and the block), UTF-8 round trip, GC.
require_relative "support"
require "json"
require "open3"
require "pathname"
require "stringio"
require "tmpdir"

class ImportTest < DbTest
  GOOD = "name,email\nZoë Ærø,z@x.de\n山田 太郎,y@x.de\n\"Max, Comma\",m@x.de\n"
  BAD = "name,email,active\nA,a@x.de,yes\nB,b@x.de,perhaps\nC,c@x.de,maybe\n"

  def setup
    super
    @conn = Fastepost.connect(@dsn)
    @conn.schema_install
  end

  def teardown
    @conn.close
    super
  end

  def count = sql("SELECT count(*) FROM customers").to_i

  def test_path_and_report
    Dir.mktmpdir do |d|
      path = File.join(d, "c.csv")
      File.write(path, GOOD)
      report = @conn.import_csv("customers", path)
      assert_kind_of Fastepost::ImportReport, report
      assert report.ok?
      assert_equal [3, 3, 3], [report.rows_read, report.rows_inserted, report.rows_written]
      assert_equal GOOD.bytesize, report.bytes_read
      refute report.dry_run?
      assert_equal [], report.errors
      assert_equal 3, report.to_h[:rows_inserted]
    end
    assert_equal "Zoë Ærø", sql("SELECT name FROM customers ORDER BY id LIMIT 1")
  end

  # One shape for every result (issue 14, item 7): to_h == `fastepost import --json` without
  # the CLI's status (and, on failure, the error object's fields).
  def test_report_has_the_keys_and_types_of_the_cli_json
    Dir.mktmpdir do |d|
      { "good.csv" => GOOD, "bad.csv" => BAD }.each do |name, text|
        path = File.join(d, name)
        File.write(path, text)
        report = begin
          @conn.import_csv("customers", path, dry_run: true)
        rescue Fastepost::Error => e
          e.report
        end
        out, = Open3.capture3(FastepostTest::CHILD_ENV, ENV.fetch("FASTEPOST_CLI"), "import", "--json", "--db", @dsn,
                              "--table", "customers", "--dry-run", path)
        cli = JSON.parse(out, symbolize_names: true)
        %i[status code http_status error].each { |k| cli.delete(k) }
        mine = report.to_h
        assert_equal cli.keys.sort, mine.keys.sort, name
        mine.each { |k, v| assert_equal cli[k].class, v.class, "#{name}: #{k}" }
        assert_equal cli, mine, name
      end
    end
  end

  def test_wrong_argument_types_raise_type_error
    [{ max_errors: "3" }, { max_field: 1.5 }, { key: 7 }, { on_conflict: 1 }].each do |kw|
      assert_raises(TypeError, kw.inspect) { @conn.import_csv("customers", StringIO.new(GOOD), **kw) }
    end
    assert_raises(TypeError) { @conn.import_csv(42, StringIO.new(GOOD)) }
    assert_raises(TypeError) { @conn.import_csv("customers", 42) }
    assert_raises(ArgumentError) { @conn.import_csv("customers", StringIO.new(GOOD), max_errors: -1) }
    assert_equal 0, count
  end

  def test_max_field
    big = "name,address\nA,#{"x" * 5000}\n"
    e = assert_raises(Fastepost::TooBigError) { @conn.import_csv("customers", StringIO.new(big), max_field: 1000) }
    assert_equal 2, e.report.errors[0].line
    assert_equal 0, count
    assert_equal 1, @conn.import_csv("customers", StringIO.new(big), max_field: 5000).rows_written
  end

  def test_io_sources
    r = @conn.import_csv("customers", StringIO.new(GOOD), dry_run: true)
    assert r.dry_run?
    assert_equal [3, 0], [r.rows_inserted, r.rows_written]
    assert_equal 0, count
    Dir.mktmpdir do |d|
      File.write(File.join(d, "c.csv"), GOOD)
      File.open(File.join(d, "c.csv")) { |f| assert_equal 3, @conn.import_csv("customers", f).rows_written }
      assert_equal 3, @conn.import_csv("customers", Pathname(d) / "c.csv", dry_run: true, on_conflict: :skip).rows_skipped
    end
    assert_equal 3, count
  end

  def test_utf8_round_trip_through_export
    @conn.import_csv("customers", StringIO.new(GOOD))
    out = @conn.export("customers", columns: %w[name email], order: "id")
    assert_equal GOOD, out
    sql("DELETE FROM customers")
    @conn.import_csv("customers", StringIO.new(out.encode(Encoding::UTF_8)))
    assert_equal out, @conn.export("customers", columns: %w[name email], order: "id")
  end

  def test_conflict_modes
    @conn.import_csv("customers", StringIO.new(GOOD))
    changed = GOOD.sub("Zoë Ærø", "Zoë Neu")
    e = assert_raises(Fastepost::ConflictError) { @conn.import_csv("customers", StringIO.new(changed)) }
    assert_kind_of Fastepost::ImportReport, e.report
    assert_operator e.report.error_total, :>, 0
    assert_equal 3, @conn.import_csv("customers", StringIO.new(changed), on_conflict: :skip).rows_skipped
    ids = sql("SELECT id FROM customers ORDER BY id").split
    csv = "id,name\n" + ids.map { |i| "#{i},Neu #{i}\n" }.join
    assert_equal 3, @conn.import_csv("customers", StringIO.new(csv), on_conflict: :update, key: :id).rows_updated
    assert_raises(ArgumentError) { @conn.import_csv("customers", StringIO.new(GOOD), on_conflict: :replace) }
  end

  def test_failure_raises_with_row_errors
    e = assert_raises(Fastepost::InvalidError) { @conn.import_csv("customers", StringIO.new(BAD), max_errors: 1) }
    report = e.report
    assert_equal 2, report.error_total
    assert_equal 1, report.errors.size
    err = report.errors[0]
    assert_kind_of Fastepost::ImportRowError, err
    assert_equal [3, "active", "perhaps"], [err.line, err.column, err.value]
    assert_match(/boolean/, err.reason)
    assert_equal 3, report.to_h[:errors][0][:line]
    refute report.ok?
    assert_equal 0, count
  end

  def test_other_errors
    e = assert_raises(Fastepost::ParseError) { @conn.import_csv("customers", StringIO.new("name\n\"open quote\n")) }
    refute_nil e.report
    assert_raises(Fastepost::ParseError) { @conn.import_csv("customers", StringIO.new("name\n\xff\xfe\n".b)) }
    assert_raises(Fastepost::NotFoundError) { @conn.import_csv("no_such_table", StringIO.new(GOOD)) }
    assert_raises(Fastepost::NotFoundError) { @conn.import_csv("customers", "/nonexistent/file.csv") }
    assert_raises(TypeError) { @conn.import_csv("customers", 42) }
    assert_nil Fastepost::NotFoundError.new("x").report
    assert_equal 0, count
  end

  def test_progress_block
    calls = []
    @conn.import_csv("customers", StringIO.new(GOOD)) { |rows, bytes| calls << [rows, bytes] }
    assert_equal [3, GOOD.bytesize], calls.last
    sql("DELETE FROM customers")
    assert_raises(Fastepost::CanceledError) { @conn.import_csv("customers", StringIO.new(GOOD)) { false } }
    assert_raises(RuntimeError) { @conn.import_csv("customers", StringIO.new(GOOD)) { raise "x" } }
    assert_equal 0, count
  end

  def test_exception_in_read_propagates_and_rolls_back
    calls = 0
    src = Object.new
    src.define_singleton_method(:read) do |_size|
      calls += 1
      raise ::IOError, "network gone" if calls > 1

      GOOD.b
    end
    e = assert_raises(::IOError) { @conn.import_csv("customers", src) }
    assert_equal "network gone", e.message
    assert_equal 2, calls
    assert_equal 0, count
    assert @conn.ping
    too_much = Object.new
    too_much.define_singleton_method(:read) { |size| "x" * (size + 1) }
    assert_raises(ArgumentError) { @conn.import_csv("customers", too_much) }
  end

  def test_report_and_exception_outlive_connection
    conn = Fastepost.connect(@dsn)
    report = conn.import_csv("customers", StringIO.new(GOOD), dry_run: true)
    err = assert_raises(Fastepost::InvalidError) { conn.import_csv("customers", StringIO.new(BAD)) { GC.start } }
    conn = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal 3, report.rows_read
    assert_equal "perhaps", err.report.errors[0].value
    report = nil # rubocop:disable Lint/UselessAssignment
    GC.start
    assert_equal 2, err.report.error_total
  end
end
