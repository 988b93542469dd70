# frozen_string_literal: true

# Backups, database figures and the report from Ruby.
require_relative "support"
require "tmpdir"

# pg_dump and psql, started by the library, inherit this process's environment: in a
# FASTEPOST_SANITIZE build that would preload the ASan runtime into them, and they hang.
FastepostTest::CHILD_ENV.each_key { |k| ENV.delete(k) }

class TestBackup < DbTest
  def setup
    super
    @conn = Fastepost::Connection.new(@dsn)
    @conn.schema_install
    @tmp = Dir.mktmpdir
  end

  def teardown
    @conn&.close
    FileUtils.remove_entry(@tmp) if @tmp
    drop_database(@target) if @target
    super
  end

  def test_round_trip
    @conn.odoo_process('{"_model": "res.partner", "_id": 1, "name": "Jürgen", "email": "j@x.de"}', host_authenticated: true)
    d = Fastepost::BackupDir.new(@tmp)
    sizes = []
    name = d.create(@conn) { |_rows, bytes| sizes << bytes }
    assert name.end_with?(".sql")
    refute_empty sizes
    custom = @conn.backup(d, format: :custom)
    infos = d.list
    assert_equal [name, custom].sort, infos.map(&:name).sort
    assert infos[0].time.utc?
    assert_includes d.open(name, &:read), "CREATE TABLE"
    assert d.path(name).end_with?(name)
    assert d.verify(name)
    assert d.verify(custom, conn: @conn, deep: true)
    assert_raises(Fastepost::InvalidError) { d.path("../etc/passwd") }
    @target = create_database
    d.restore(custom, @conn, dsn_for(@target))
    assert_equal "Jürgen", psql("SELECT name FROM customers", @target)
    stats = @conn.db_stats(backups: d, exact: true)
    assert_equal 2, stats.backup_count
    assert_includes stats.tables.map(&:name), "customers"
    assert_equal @dbname, stats.to_h[:database]
    assert_equal Encoding::UTF_8, stats.database.encoding
    assert_equal [infos[1].name], d.prune(keep: 1).map(&:name)
    assert_equal 1, d.list(limit: nil).size
    html = @conn.report_html(backup_dir: d, title: "Bericht <ü>")
    assert_includes html, "Bericht &lt;ü&gt;"
    assert_equal Encoding::UTF_8, html.encoding
  end

  def test_progress_exception_propagates
    d = Fastepost::BackupDir.new(@tmp)
    assert_raises(KeyError) { d.create(@conn) { raise KeyError, "stop" } }
    assert_empty d.list
    GC.start
  end

  def test_thread_runs_during_pg_dump
    sql("INSERT INTO customers (name, email) SELECT 'n' || g, 'e' || g || '@x.de' FROM generate_series(1, 50000) g")
    d = Fastepost::BackupDir.new(@tmp)
    _, during, elapsed = ticks_during { d.create(@conn) }
    assert_operator during, :>, elapsed / 0.005 / 3, "only #{during} ticks in #{elapsed.round(2)}s"
  end
end
