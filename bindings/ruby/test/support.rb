# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Test support: each test gets a database of its own on the throwaway server that
# scripts/with-postgres started (FASTEPOST_TEST_DSN), and drops it afterwards. Checks go through
# psql, a separate connection, so that the library is never asked to confirm its own work.
require "minitest/autorun"
require "open3"
require "securerandom"
require "fastepost"

module FastepostTest
  module_function

  # The locale suite (ctest label `locale`) sets FASTEPOST_TEST_SETLOCALE=1 and LC_ALL. Ruby
  # itself sets only LC_CTYPE from the environment, but a native extension or an embedding host
  # may call setlocale(LC_ALL, "") in the same process: do that here (through Fiddle, as such a
  # host would in C), so that LC_NUMERIC follows too. A locale that is not installed fails: a
  # run that fell back to "C" would prove nothing.
  def setlocale_from_env
    return unless ENV["FASTEPOST_TEST_SETLOCALE"] == "1"

    require "fiddle"
    lc_all = 6 # glibc's LC_ALL
    setlocale = Fiddle::Function.new(Fiddle::Handle::DEFAULT["setlocale"],
                                     [Fiddle::TYPE_INT, Fiddle::TYPE_VOIDP], Fiddle::TYPE_VOIDP)
    name = setlocale.call(lc_all, "")
    raise "FASTEPOST_TEST_SETLOCALE: cannot set LC_ALL=#{ENV.fetch("LC_ALL", nil)} (scripts/deps locales " \
          "generates the test locales)" if name.null?

    warn "FASTEPOST_TEST_SETLOCALE: running under #{name}"
  end

  def server_dsn
    ENV.fetch("FASTEPOST_TEST_DSN") { raise "FASTEPOST_TEST_DSN is not set (run under scripts/with-postgres)" }
  end

  # Quote a conninfo value (libpq key='value' syntax).
  def quote_value(value) = "'#{value.gsub("\\") { "\\\\" }.gsub("'") { "\\'" }}'"

  def quote_ident(name) = %("#{name.gsub('"', '""')}")

  def dsn_for(dbname, extra = "") = "#{server_dsn} dbname=#{quote_value(dbname)} #{extra}".strip

  # Child processes (psql) must not inherit the sanitizer runtime that a FASTEPOST_SANITIZE
  # build preloads into the interpreter: psql deadlocks under it.
  CHILD_ENV = { "LD_PRELOAD" => nil, "ASAN_OPTIONS" => nil }.freeze

  # Run the block while a ticker thread counts ticks (one per `interval` s, each needing the GVL
  # back). Returns [block's value, ticks during the block, seconds the block took]: a call that
  # kept the GVL while waiting would leave the ticker stalled.
  def ticks_during(interval = 0.005, settle: 0.05)
    ticks = 0
    running = true
    ticker = Thread.new do
      while running
        ticks += 1
        sleep interval
      end
    end
    sleep settle
    start = ticks
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    begin
      value = yield
    ensure
      elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
      during = ticks - start
      running = false
      ticker.join
    end
    [value, during, elapsed]
  end

  # Run SQL through psql; returns its unaligned, tuples-only output, stripped.
  def psql(sql, dbname = "postgres")
    out, err, status = Open3.capture3(CHILD_ENV, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                      "-d", dsn_for(dbname), "-c", sql)
    raise "psql failed: #{sql}\n#{err}" unless status.success?

    out.force_encoding(Encoding::UTF_8).strip
  end

  def create_database(prefix = "fp_rb")
    name = "#{prefix}_#{SecureRandom.hex(5)}"
    psql("CREATE DATABASE #{quote_ident(name)}")
    name
  end

  def drop_database(name)
    psql("DROP DATABASE IF EXISTS #{quote_ident(name)} WITH (FORCE)")
  end
end

FastepostTest.setlocale_from_env

# A fresh empty database per test: @dbname, @dsn.
class DbTest < Minitest::Test
  include FastepostTest

  def setup
    @dbname = create_database
    @dsn = dsn_for(@dbname)
  end

  def teardown
    Process.wait(@locker) if @locker
    GC.start
    drop_database(@dbname)
  end

  def sql(query) = psql(query, @dbname)

  # Start a psql session that holds an exclusive lock on `table` for `seconds`; returns once the
  # lock is granted (teardown waits for the session).
  def hold_lock(table, seconds = 1.0)
    @locker = spawn(CHILD_ENV, "psql", "-X", "-q", "-d", @dsn, "-c",
                    "BEGIN; LOCK TABLE #{table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(#{seconds}); COMMIT;",
                    out: File::NULL)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    until sql("SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' " \
              "AND relation = '#{table}'::regclass") == "1"
      flunk "the lock was never taken" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.02
    end
  end

  # How many sessions are connected to this test's database (psql's own excluded). A backend
  # leaves pg_stat_activity shortly after its client disconnects, so wait up to 2 s for the
  # count to reach `expect` (running GC meanwhile) before returning whatever it is.
  def backends(expect: nil)
    40.times do
      n = sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '#{@dbname}' " \
              "AND pid <> pg_backend_pid()").to_i
      return n if expect.nil? || n == expect

      GC.start
      sleep 0.05
    end
    backends
  end
end
