# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The GVL is released while a call waits on the database: other threads keep running.
require_relative "support"
require "socket"
require "timeout"

class TestThreads < DbTest
  def test_blocked_call_lets_other_threads_run
    Fastepost::Connection.open(@dsn) do |conn|
      conn.schema_install
      hold_lock("fastepost_schema_migrations", 1.0)
      # Each tick needs the GVL back: with the GVL held during the wait, the ticker would stall.
      version, during, elapsed = ticks_during { conn.schema_version } # waits for the lock
      assert version.up_to_date?
      assert_operator elapsed, :>, 0.4, "the call did not wait for the lock"
      assert_operator during, :>, 20, "only #{during} ticks in #{elapsed.round(2)}s"
    end
  end

  def test_connect_to_a_silent_server_lets_other_threads_run
    # A TCP server that accepts and never answers: connecting waits for connect_timeout.
    server = TCPServer.new("127.0.0.1", 0)
    port = server.addr[1]
    e, during, elapsed = ticks_during do
      assert_raises(Fastepost::ConnectionError) do
        Fastepost.connect("host=127.0.0.1 port=#{port} dbname=x connect_timeout=2")
      end
    end
    assert_match(/timeout/, e.message)
    assert_operator elapsed, :>, 1.0
    assert_operator during, :>, 40, "only #{during} ticks in #{elapsed.round(2)}s"
  ensure
    server&.close
  end

  def test_statement_timeout_while_blocked
    Fastepost::Connection.open(@dsn) do |conn|
      conn.schema_install
      hold_lock("fastepost_schema_migrations", 1.0)
      conn.statement_timeout = 0.1
      e = assert_raises(Fastepost::TimeoutError) { conn.schema_version }
      assert_equal "57014", e.sqlstate # query_canceled
      assert_equal 503, e.http_status
      conn.statement_timeout = 0
      assert conn.ping
    end
  end

  def test_held_lock_is_busy_within_the_lock_timeout
    Fastepost::Connection.open(@dsn, lock_timeout: 0.3) do |conn|
      assert_equal 0.3, conn.lock_timeout
      conn.schema_install
      hold_lock("fastepost_schema_migrations", 3.0)
      started = now
      e = assert_raises(Fastepost::BusyError) { conn.schema_version }
      assert_operator now - started, :<, 2.0
      assert_equal "55P03", e.sqlstate # lock_not_available
    end
  end

  def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # A call waiting on the server (here for a table lock) is interrupted by Timeout: the
  # unblocking function cancels its statement. Run in a child process: in the sanitizer build,
  # threads started after Timeout's own thread ran the unblocking function trip an ASan
  # stack-bookkeeping CHECK (Ruby reuses that native thread); a child keeps that away from the
  # other tests. The child's exit status says which step failed.
  def test_timeout_interrupts_a_waiting_export
    sql("CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 1000) g")
    hold_lock("big", 6.0)
    pid = fork do
      Fastepost::Connection.open(@dsn) do |conn|
        started = now
        begin
          Timeout.timeout(1) { conn.export("big") }
          exit!(1) # the export finished: the lock was not waited for
        rescue Timeout::Error
          exit!(2) if now - started >= 3.0 # Timeout waited for the call
        end
        exit!(conn.ping ? 0 : 3) # still usable
      end
    rescue Exception # rubocop:disable Lint/RescueException
      exit!(4)
    end
    _, status = Process.wait2(pid)
    assert_equal 0, status.exitstatus, "step #{status.exitstatus} failed"
  end

  def test_thread_raise_interrupts_a_waiting_call
    sql("CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 1000) g")
    Fastepost::Connection.open(@dsn) do |conn|
      hold_lock("big", 6.0)
      worker = Thread.new do
        conn.export("big")
        :finished
      rescue RuntimeError => e
        e.message
      end
      sleep 0.5
      started = now
      worker.raise(RuntimeError, "stop")
      assert_equal "stop", worker.value
      assert_operator now - started, :<, 2.0
      assert conn.ping
    end
  end

  def test_cancel_from_another_thread
    sql("CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 1000) g")
    Fastepost::Connection.open(@dsn) do |conn|
      assert_nil conn.cancel # nothing runs: nothing happens
      hold_lock("big", 6.0)
      canceller = Thread.new { sleep 0.5; conn.cancel }
      started = now
      assert_raises(Fastepost::CanceledError) { conn.export("big") }
      assert_operator now - started, :<, 3.0
      canceller.join
      assert conn.ping
    end
  end

  def test_connections_in_parallel_threads
    threads = Array.new(4) do
      Thread.new do
        5.times do
          Fastepost::Connection.open(@dsn) do |conn|
            conn.schema_version
            conn.ping
          end
        end
        # The thread-local error is read on the thread that made the call.
        e = assert_raises(Fastepost::InvalidError) { Fastepost.connect("=broken") }
        assert_match(/invalid connection string/, e.message)
      end
    end
    threads.each(&:join)
  end

  def test_one_connection_shared_by_threads
    conn = Fastepost.connect(@dsn)
    conn.schema_install
    results = Queue.new
    Array.new(3) { Thread.new { 20.times { results << conn.schema_version.current } } }.each(&:join)
    conn.close
    assert_equal 60, results.size
    assert_equal 1, Array.new(results.size) { results.pop }.uniq.size
  end
end
