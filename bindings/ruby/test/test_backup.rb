# SPDX-License-Identifier: MIT
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

  # A pg_dump that writes a little and then hangs: a real program, started by the library.
  def hanging_pg_dump
    path = File.join(@tmp, "pg_dump")
    File.write(path, <<~SH)
      #!/bin/sh
      if [ "$1" = --version ]; then echo 'pg_dump (PostgreSQL) 99.0'; exit 0; fi
      printf -- '-- partial dump\n'
      exec sleep 60
    SH
    File.chmod(0o755, path)
    path
  end

  # Timeout (and Thread#raise, Ctrl-C) stop a running backup: the binding's unblocking function
  # sets the handle's interrupt flag, the library stops pg_dump and removes the partial file,
  # and the Timeout::Error is raised, not a CanceledError.
  def test_timeout_interrupts_a_running_backup
    require "timeout"
    fake = hanging_pg_dump
    old = ENV["FASTEPOST_PG_DUMP"]
    ENV["FASTEPOST_PG_DUMP"] = fake # read once, by BackupDir.new
    d = Fastepost::BackupDir.new(File.join(@tmp, "backups"))
    ENV["FASTEPOST_PG_DUMP"] = old
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_raises(Timeout::Error) { Timeout.timeout(1) { @conn.backup(d) } }
    took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    assert_operator took, :<, 5, "stopped at once, not after pg_dump's 60 s"
    assert_empty Dir.children(d.dir), "no partial file left"
    assert_equal "1", sql("SELECT 1"), "the connection's database is untouched"
    # The handle and the connection still work.
    assert_empty d.list
    assert @conn.ping
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
    assert infos[0].created.utc?
    # The keys and types of the CLI's --json (docs/backup.md).
    info = infos[0].to_h
    assert_equal %i[name size_bytes created_at created_at_us format kind table], info.keys
    assert_kind_of Integer, info[:size_bytes]
    assert_kind_of Integer, info[:created_at_us]
    assert_equal 0, info[:created_at_us] % 1_000_000, "from the name: whole seconds"
    assert_in_delta Time.now.to_f, info[:created_at_us] / 1e6, 600
    assert_equal info[:created_at_us], (infos[0].created.to_r * 1_000_000).to_i
    assert_equal infos[0].created.strftime("%Y-%m-%dT%H:%M:%S.%6NZ"), info[:created_at]
    assert_nil info[:table]
    assert_equal "full", info[:kind]
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

  def test_kinds_default_dir_and_trust
    d = Fastepost::BackupDir.new(@tmp)
    full = d.create(@conn)
    table = d.create(@conn, table: "customers")
    assert_includes table, "_table-customers.sql"
    kinds = d.list.to_h { |i| [i.name, [i.kind, i.table]] }
    assert_equal({ full => ["full", nil], table => %w[table customers] }, kinds)
    assert_equal full, @conn.db_stats(backups: d).newest_backup.name
    assert_empty d.prune(keep: 1)
    assert_raises(Fastepost::InvalidError) { d.prune(keep: 0) }
    assert_raises(ArgumentError) { d.prune(keep: 1, all: true) }
    saved = ENV.to_h.slice("FASTEPOST_BACKUP_DIR", "XDG_STATE_HOME")
    begin
      ENV.delete("FASTEPOST_BACKUP_DIR")
      ENV["XDG_STATE_HOME"] = File.join(@tmp, "state")
      assert_equal File.join(@tmp, "state", "fastepost", "backups"), Fastepost::BackupDir.new.dir
      # A relative path is taken from the working directory, by the binding.
      Dir.chdir(@tmp) { assert_equal File.join(Dir.pwd, "rel"), Fastepost::BackupDir.new("rel").dir }
    ensure
      ENV.delete("XDG_STATE_HOME")
      ENV.update(saved)
    end
    File.chmod(0o777, @tmp)
    begin
      e = assert_raises(Fastepost::InvalidError) { d.list }
      assert_includes e.message, "chmod go-w"
    ensure
      File.chmod(0o700, @tmp)
    end
  end

  # The binding passes FASTEPOST_PG_DUMP and PATH on; set_tool/set_search_path override them
  # (the library itself reads neither).
  def test_tools_from_the_environment_and_prune_all
    old = ENV["FASTEPOST_PG_DUMP"]
    ENV["FASTEPOST_PG_DUMP"] = "/nonexistent/pg_dump"
    d = Fastepost::BackupDir.new(File.join(@tmp, "b"))
    ENV["FASTEPOST_PG_DUMP"] = old
    e = assert_raises(Fastepost::NotFoundError) { d.create(@conn) }
    assert_includes e.message, "/nonexistent/pg_dump"
    d.set_tool(:pg_dump, nil)
    d.set_search_path("/nonexistent")
    assert_raises(ArgumentError) { d.set_tool(:pg_dumpall, "/bin/true") }
    d.set_search_path(nil) # the default search finds the real one
    names = [d.create(@conn), d.create(@conn, format: :custom)]
    assert_equal names.sort, d.prune(all: true).map(&:name).sort
    assert_empty d.list
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
