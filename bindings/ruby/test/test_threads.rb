# frozen_string_literal: true

# The GVL is released while a call waits on the database: other threads keep running.
require_relative "support"
require "socket"

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
      e = assert_raises(Fastepost::DatabaseError) { conn.schema_version }
      assert_equal "57014", e.sqlstate # query_canceled
      conn.statement_timeout = 0
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
