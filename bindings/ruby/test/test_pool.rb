# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Fastepost::Pool: bounded, thread-safe, checkout timeout, broken connections replaced, reset
# after fork; and Connection#prune_events (event-log retention).
require_relative "support"

class TestPool < DbTest
  def terminate_backends
    sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '#{@dbname}' " \
        "AND pid <> pg_backend_pid()")
    backends(0)
  end

  # Sessions connected to this test's database (psql's own excluded), waiting up to 2 s for
  # the count to reach `expect`.
  def backends(expect = nil)
    n = nil
    40.times do
      n = Integer(sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '#{@dbname}' " \
                      "AND pid <> pg_backend_pid()"))
      break if expect.nil? || n == expect

      GC.start
      sleep 0.05
    end
    n
  end

  def test_more_threads_than_connections
    Fastepost.connect(@dsn, &:schema_install)
    pool = Fastepost::Pool.new(@dsn, size: 2, timeout: 30)
    lock = Mutex.new
    in_use = peak = done = 0
    conns = {}
    threads = Array.new(8) do
      Thread.new do
        10.times do
          pool.with do |conn|
            lock.synchronize do
              in_use += 1
              peak = [peak, in_use].max
              conns[conn.object_id] = true
            end
            conn.schema_version # a round trip, GVL released
            sleep 0.002
            lock.synchronize do
              in_use -= 1
              done += 1
            end
          end
        end
      end
    end
    threads.each { |t| t.join(60) }
    assert_equal 80, done
    assert_equal 2, peak, "at most size connections are checked out at once"
    assert_operator conns.size, :<=, 2
    assert_equal 2, pool.open_count
    assert_equal 2, pool.idle_count
    assert_equal 2, backends(2), "two server sessions for eight threads"
  ensure
    pool&.close
  end

  def test_checkout_timeout
    pool = Fastepost::Pool.new(@dsn, size: 1, timeout: 0.3)
    held = nil
    e = nil
    elapsed = nil
    pool.with do |conn|
      held = conn
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      e = assert_raises(Fastepost::PoolTimeout) { pool.with { flunk "no connection was free" } }
      elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    end
    assert_kind_of Fastepost::TimeoutError, e
    assert_kind_of Fastepost::Error, e
    assert_equal 503, e.http_status
    assert_equal Fastepost::TimeoutError::CODE, e.code
    assert_match(/size 1/, e.message)
    assert_operator elapsed, :>=, 0.29
    assert_operator elapsed, :<, 5
    # A waiting thread gets the connection as soon as it is given back.
    got = nil
    waiter = nil
    pool.with do
      waiter = Thread.new { pool.with(timeout: 10) { |c| got = c } }
      sleep 0.1
      assert_nil got
    end
    waiter.join(10)
    assert_same held, got
  ensure
    pool&.close
  end

  def test_broken_connection_replaced
    pool = Fastepost::Pool.new(@dsn, size: 1, timeout: 5, ping_after: 0)
    first = pool.with do |c|
      c.ping
      c
    end
    terminate_backends
    # Idle and dead: the ping at checkout finds out, a new connection takes its place.
    second = pool.with do |c|
      c.ping
      c
    end
    refute_same first, second
    assert_equal 1, pool.open_count
    # Broken during use: the ConnectionError goes to the caller, the connection is dropped.
    assert_raises(Fastepost::ConnectionError) do
      pool.with do |c|
        terminate_backends
        c.schema_version
      end
    end
    assert_equal 0, pool.open_count
    assert_equal 0, pool.idle_count
    third = pool.with do |c|
      c.ping
      c
    end
    refute_same second, third
  ensure
    pool&.close
  end

  def test_reset_after_fork
    pool = Fastepost::Pool.new(@dsn, size: 2, timeout: 5, ping_after: 3600)
    parent_id = pool.with do |c|
      c.ping
      c.object_id
    end
    pid = fork do
      ok = pool.open_count.zero? && pool.idle_count.zero?
      pool.with do |c|
        c.ping
        ok &&= c.object_id != parent_id
      end
      pool.close
      GC.start # the inherited connection object may be freed here: it must not close
      exit!(ok ? 0 : 1)
    end
    Process.wait(pid)
    assert_equal 0, $?.exitstatus, "the child's checks failed"
    # The parent's session survived the child (no Terminate sent on its socket).
    pool.with do |c|
      assert_equal parent_id, c.object_id
      c.ping
    end
  ensure
    pool&.close
  end

  def test_arguments_and_close
    assert_raises(Fastepost::InvalidError) { Fastepost::Pool.new(@dsn, size: 0) }
    assert_raises(Fastepost::InvalidError) { Fastepost::Pool.new(@dsn, timeout: -1) }
    pool = Fastepost::Pool.new(@dsn, size: 1)
    pool.with(&:ping)
    assert_equal 1, backends(1)
    pool.close
    assert_equal 0, backends(0)
    assert_raises(Fastepost::InvalidError) { pool.with { flunk "closed" } }
    # A bad DSN: the error goes to the caller and the slot is given back.
    bad = Fastepost::Pool.new("#{@dsn} port=1", size: 1, timeout: 0.5)
    2.times { assert_raises(Fastepost::ConnectionError) { bad.with { flunk "connected" } } }
    assert_equal 0, bad.open_count
  end

  def test_prune_events
    Fastepost.connect(@dsn) do |conn|
      conn.schema_install
      sql("INSERT INTO integration_events (source, event_type, status, created_at) " \
          "SELECT 'odoo', 'res.partner', s, (now() AT TIME ZONE 'UTC') - interval '30 days' " \
          "FROM unnest(array['success', 'success', 'success', 'error']) s")
      sql("INSERT INTO integration_events (source, event_type, status, created_at) " \
          "VALUES ('odoo', 'res.partner', 'success', now() AT TIME ZONE 'UTC')")
      e = assert_raises(Fastepost::InvalidError) { conn.prune_events(older_than_days: 6) }
      assert_match(/7 days/, e.message)
      assert_equal 400, e.http_status
      assert_equal "5", sql("SELECT count(*) FROM integration_events")
      assert_raises(Fastepost::InvalidError) { conn.prune_events(older_than_days: 30, status: "error") }
      r = conn.prune_events(older_than_days: 7, batch_size: 2)
      assert_kind_of Fastepost::PruneReport, r
      assert_equal [3, 2], [r.deleted, r.batches]
      assert_operator r.cutoff_us, :>, 1_700_000_000 * 10**6
      assert_equal 1, conn.prune_events(older_than_days: 7, status: :all).deleted
      assert_equal "1", sql("SELECT count(*) FROM integration_events")
      assert_equal "1", sql("SELECT sum(n) FROM fastepost_event_counts")
    end
  end
end
