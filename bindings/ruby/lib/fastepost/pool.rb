# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # No connection of a Pool became free within the checkout timeout. A Fastepost::TimeoutError
  # (code ETIMEOUT), so #http_status is 503: answer the webhook sender 503 and it delivers again.
  class PoolTimeout < TimeoutError
    def initialize(message = "no connection of the pool became free in time")
      super
      @code = TimeoutError::CODE
      @sqlstate = ""
      @http_status = Fastepost.status_http(@code)
    end
  end

  # A bounded, thread-safe pool of Connections for hosts that serve requests from many threads
  # (Puma, Sidekiq):
  #
  #   POOL = Fastepost::Pool.new(ENV.fetch("DATABASE_URL"), size: 5, timeout: 5)
  #   POOL.with { |conn| conn.odoo_process(body) }
  #
  # - at most size: connections exist; a thread that finds none free waits up to timeout:
  #   seconds, then PoolTimeout (a Fastepost::TimeoutError, http_status 503);
  # - connections are opened lazily, when no idle one is left;
  # - a connection idle for ping_after: seconds or more is pinged before it is handed out, and
  #   one that raised Fastepost::ConnectionError in the block (or was closed) is discarded; a new
  #   one takes its place on the next checkout;
  # - after fork the child starts with an empty pool; the parent's connections are never closed
  #   there (that would end the parent's sessions). Better still, create pools after forking
  #   (Puma's on_worker_boot, Sidekiq's configure_server).
  class Pool
    attr_reader :size, :timeout

    # url and options (statement_timeout: ...) as for Fastepost.connect.
    def initialize(url = "", size: 5, timeout: 5.0, ping_after: 1.0, **options)
      raise InvalidError, "the pool size must be 1 or more, not #{size}" if Integer(size) < 1
      raise InvalidError, "the pool's timeout and ping_after must not be negative" if Float(timeout).negative? || Float(ping_after).negative?

      @url = url
      @options = options
      @size = Integer(size)
      @timeout = Float(timeout)
      @ping_after = Float(ping_after)
      @idle = [] # [connection, time it was returned]; the most recent last
      @open = 0  # connections that exist: idle + checked out + being opened
      @closed = false
      reset_after_fork
    end

    # Check a connection out for the block and give it back afterwards; the block's value.
    # timeout: seconds to wait for a free connection (nil: the pool's). Raises PoolTimeout, or
    # ConnectionError when a new connection cannot be opened.
    def with(timeout: nil)
      pid = Process.pid
      conn = checkout(timeout.nil? ? @timeout : Float(timeout))
      broken = false
      begin
        yield conn
      rescue ConnectionError
        broken = true
        raise
      ensure
        # Checked out before a fork and given back in the child: the parent's, not ours.
        if Process.pid == pid
          checkin(conn, broken: broken)
        else
          forget(conn)
        end
      end
    end

    # Connections that exist now (idle or checked out).
    def open_count = synchronize { @open }

    # Connections waiting in the pool.
    def idle_count = synchronize { @idle.size }

    # Close the idle connections now and the checked-out ones as they come back; later
    # checkouts raise InvalidError.
    def close
      idle = synchronize do
        @closed = true
        @open -= @idle.size
        @cond.broadcast
        @idle.slice!(0..)
      end
      idle.each { |conn, _| conn.close }
      nil
    end

    def inspect = "#<Fastepost::Pool size=#{@size} open=#{@open} idle=#{@idle.size}>"

    private

    def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

    def synchronize(&block)
      reset_after_fork if @pid != Process.pid
      @mutex.synchronize(&block)
    end

    def checkout(timeout)
      deadline = now + timeout
      conn, since = synchronize do
        loop do
          raise InvalidError, "the pool is closed" if @closed
          break @idle.pop unless @idle.empty?
          if @open < @size
            @open += 1
            break [nil, nil]
          end
          remaining = deadline - now
          raise PoolTimeout, "no connection of the pool (size #{@size}) became free within #{timeout} s" if remaining <= 0

          @cond.wait(@mutex, remaining)
        end
      end
      # Opening and pinging happen outside the lock: other threads may check in meanwhile.
      begin
        if conn && now - since >= @ping_after
          begin
            conn.ping
          rescue Error
            conn.close
            conn = nil
          end
        end
        conn || Connection.new(@url, **@options)
      rescue Exception # the slot is given back whatever happened (Interrupt too)
        synchronize do
          @open -= 1
          @cond.signal
        end
        raise
      end
    end

    def checkin(conn, broken: false)
      broken ||= conn.closed?
      discard = synchronize do
        if broken || @closed
          @open -= 1
        else
          @idle.push([conn, now])
        end
        @cond.signal
        broken || @closed
      end
      conn.close if discard
    end

    # Connection keeps its Core handle in @conn; the pool reaches into it only for this.
    def forget(conn) = Core.conn_forget(conn.instance_variable_get(:@conn))

    # In a forked child (or at construction): a fresh lock, no connections. Connections
    # inherited from the parent are forgotten without closing them.
    def reset_after_fork
      (@idle || []).each { |conn, _| forget(conn) }
      @idle = []
      @open = 0
      @mutex = Thread::Mutex.new
      @cond = Thread::ConditionVariable.new
      @pid = Process.pid
    end
  end
end
