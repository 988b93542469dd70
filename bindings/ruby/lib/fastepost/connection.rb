# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The connection (Fastepost.connect, Connection) and the schema. Connection holds the
# lifecycle, the connection settings and the schema calls; the methods of each other concern
# live with that concern, in one module each (Connection::TransferMethods in transfer.rb,
# WebhookMethods in webhooks.rb, BackupMethods in backup.rb, StatsMethods in stats.rb),
# included here. lib/fastepost.rb requires those files first.
module Fastepost
  # The SQL of every schema migration, in order, as one script.
  def self.schema_sql = Core.schema_sql

  # Same as Connection.open.
  def self.connect(url = "", **options, &block) = Connection.open(url, **options, &block)

  # The schema version of a database (current) and the newest this library knows (latest).
  # Results own their data: they outlive the connection.
  SchemaVersion = Struct.new(:current, :latest, keyword_init: true) do
    def up_to_date? = current == latest
  end

  # A connection to the PostgreSQL database holding the Fast Epost tables.
  #
  # Every wait is bounded (docs/bindings.md): connect_timeout 10 s and TCP keepalives unless
  # the url says otherwise, a statement timeout (default 30 s) and a lock timeout (default 5 s)
  # in every transaction. Timeout.timeout, Thread#raise and Ctrl-C interrupt a call at once
  # (the statement is cancelled on the server). After fork (Puma, Unicorn preload) the child's
  # first call reconnects; the parent's session is untouched.
  class Connection
    include TransferMethods
    include WebhookMethods
    include OdooSyncMethods
    include BackupMethods
    include StatsMethods

    # Connect. With a block, yields the connection and closes it afterwards (returning the
    # block's value); without, returns it.
    #
    #   url                a libpq connection string or URL; "" uses the PG* variables
    #   statement_timeout: seconds any one statement may run (nil or 0: the default, 30; at
    #                      most about 24.8 days); a longer one raises TimeoutError
    #   lock_timeout:      seconds a statement may wait for a lock (nil or 0: the default, 5);
    #                      a longer wait raises BusyError
    #
    # Raises InvalidError (unparsable string), ConnectionError (unreachable, no answer within
    # connect_timeout, login refused), VersionError (server < 12).
    def self.open(url = "", **options)
      conn = new(url, **options)
      return conn unless block_given?

      begin
        yield conn
      ensure
        conn.close
      end
    end

    def initialize(url = "", statement_timeout: nil, lock_timeout: nil)
      @lock = Monitor.new
      @conn = Core::Conn.new(url)
      @pid = Process.pid
      self.statement_timeout = statement_timeout unless statement_timeout.nil?
      self.lock_timeout = lock_timeout unless lock_timeout.nil?
    end

    # Disconnect now. Later calls raise ConnectionError until #reset. Safe to call twice; the
    # memory goes when the object is garbage collected.
    def close
      synchronize { Core.conn_close(@conn) }
      nil
    end

    # Reconnect with the same parameters (e.g. after the server restarted).
    def reset
      synchronize { Core.conn_reset(@conn) }
      self
    end

    # Stop the call running on this connection in another thread (it raises CanceledError).
    # Safe from any thread: it does not wait for the call's lock. Does nothing when no call
    # runs. A call that runs pg_dump is not stopped.
    def cancel
      Core.conn_cancel(@conn)
      nil
    end

    # True once #close was called.
    def closed? = Core.conn_is_open(@conn).zero?

    # Check that the server answers; raises ConnectionError if not.
    def ping
      synchronize { Core.conn_ping(@conn) }
      true
    end

    # The server's version number (150004 for 15.4). Raises ConnectionError when closed.
    def server_version
      require_open
      Core.conn_server_version(@conn)
    end

    # The name of the connected database. Raises ConnectionError when closed.
    def database
      require_open
      Core.conn_database(@conn)
    end

    # Seconds any one statement may run (default 30; nil or 0 restores the default). Kept
    # across #reset.
    def statement_timeout = seconds(Core.conn_statement_timeout(@conn))

    def statement_timeout=(seconds)
      us = microseconds(:statement_timeout, seconds)
      synchronize { Core.conn_set_statement_timeout(@conn, us) }
    end

    # Seconds a statement may wait for a lock (default 5; nil or 0 restores the default). Kept
    # across #reset.
    def lock_timeout = seconds(Core.conn_lock_timeout(@conn))

    def lock_timeout=(seconds)
      us = microseconds(:lock_timeout, seconds)
      synchronize { Core.conn_set_lock_timeout(@conn, us) }
    end

    # Install or upgrade the schema; returns how many migrations were applied (0 when up to
    # date). Raises ConflictError for an incompatible existing column, VersionError for a
    # database migrated by a newer library.
    def schema_install
      synchronize { Core.schema_install(@conn) }
    end

    # The database's schema version as a SchemaVersion.
    def schema_version
      current, latest = synchronize { Core.schema_version(@conn) }
      SchemaVersion.new(current: current, latest: latest)
    end

    def inspect
      closed? ? "#<Fastepost::Connection closed>" : "#<Fastepost::Connection database=#{database.inspect}>"
    end

    private

    # Every call on the connection goes through here. In a process forked after the connection
    # was opened, the first call reconnects: the library refuses the parent's session there.
    def synchronize
      @lock.synchronize do
        if @pid != Process.pid
          Core.conn_reset(@conn) unless closed?
          @pid = Process.pid
        end
        yield
      end
    end

    # Microseconds as seconds: an Integer when whole (30, not 30.0).
    def seconds(us) = (us % 1_000_000).zero? ? us / 1_000_000 : us / 1_000_000.0

    # Seconds (Integer or Float; nil: 0, the default) as the C API's microseconds.
    def microseconds(name, seconds)
      return 0 if seconds.nil?
      raise TypeError, "#{name} must be a number of seconds, not #{seconds.class}" unless seconds.is_a?(Numeric)

      (seconds * 1_000_000).round
    end

    def require_open
      Core._raise_code(Core::ECONN, "the connection is closed", "") if closed?
    end

    # The Core handle (BackupDir, Spool).
    def core = @conn
  end
end
