# frozen_string_literal: true

# libfastepost in the Rails app: one connection per thread (each Puma worker thread, each
# Sidekiq/ActiveJob thread), opened on first use from DATABASE_URL and reused for every later
# request on that thread. A connection serves one call at a time, and calls release the GVL
# while they wait on PostgreSQL or pg_dump, so threads never wait on each other here.
require "fastepost"

module FastepostDB
  module_function

  # This thread's connection (reopened if it was closed, e.g. after a failover).
  def connection
    conn = Thread.current.thread_variable_get(:fastepost_connection)
    return conn if conn && !conn.closed?

    conn = Fastepost::Connection.open(database_url, statement_timeout: statement_timeout)
    Thread.current.thread_variable_set(:fastepost_connection, conn)
    conn
  end

  def database_url = ENV.fetch("DATABASE_URL", "")

  # Seconds; 0 turns the limit off. Webhook senders give up quickly (Odoo after ~1 s), so
  # keep it short; exports and backups are not bound by it.
  def statement_timeout = Float(ENV.fetch("FASTEPOST_STATEMENT_TIMEOUT", "30"))

  # Where backups go (created 0700 on the first backup).
  def backup_dir
    ENV.fetch("FASTEPOST_BACKUP_DIR") { Rails.root.join("tmp", "backups").to_s }
  end

  # Where Odoo deliveries that cannot reach PostgreSQL are kept (answered 202: Odoo never
  # retries). Replay them from cron: `fastepost spool replay --dir <this>`.
  def spool_dir
    ENV.fetch("FASTEPOST_SPOOL_DIR") { Rails.root.join("tmp", "spool").to_s }
  end

  # The spool (created 0700 on first use); one per directory, shared by every thread (a Spool
  # serialises its own calls).
  def spool
    dir = spool_dir
    @spool_lock.synchronize do
      @spool = nil if @spool && @spool.dir != dir
      @spool ||= Fastepost::Spool.new(dir)
    end
  end
  @spool_lock = Mutex.new

  # HubSpot app client secrets, newest first (comma-separated while rotating).
  def hubspot_secrets = ENV.fetch("HUBSPOT_CLIENT_SECRET", "").split(",").map(&:strip).reject(&:empty?)
end
