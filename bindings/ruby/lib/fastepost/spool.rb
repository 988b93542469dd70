# frozen_string_literal: true

# The delivery spool (docs/spool.md): deliveries that arrive while PostgreSQL is unreachable
# are written to a directory and replayed later.
module Fastepost
  # One spooled delivery: file name, source ("odoo"; "?" for an unreadable file), event hint
  # ("" for none), content_type, body size bytes and spooled_at (a UTC Time).
  SpoolEntry = Struct.new(:name, :source, :event, :content_type, :bytes, :spooled_at, :reason, keyword_init: true) do
    def self.from(h)
      us = h[:spooled_at]
      new(**h, spooled_at: Time.at(us / 1_000_000, us % 1_000_000, :usec).utc)
    end
  end

  # What Spool#replay did: replayed (committed, of which duplicates were in the database
  # already), rejected (kept as <name>.bad) and remaining.
  SpoolReplayReport = Struct.new(:replayed, :duplicates, :rejected, :remaining, keyword_init: true)

  # A spool directory for deliveries that arrive while PostgreSQL is unreachable
  # (docs/spool.md); created with mode 0700 when missing. Writing a record (fsync) and replay
  # run with the GVL released.
  class Spool
    attr_reader :dir

    def initialize(dir, max_files: nil, max_bytes: nil)
      @lock = Monitor.new
      @dir = dir.to_s
      @s = Core::Spool.new(@dir)
      return if max_files.nil? && max_bytes.nil?

      Core.spool_set_limits(@s, max_files.nil? ? Core::SPOOL_DEFAULT_MAX_FILES : Integer(max_files),
                            max_bytes.nil? ? Core::SPOOL_DEFAULT_MAX_BYTES : Integer(max_bytes))
    end

    # Spool one delivery durably; returns the file name. FullError (HTTP 503) when the spool or
    # its disk is full, or its directory is unusable (see #warning).
    def put(body, source: "odoo", event: nil, content_type: nil)
      @lock.synchronize { Core.spool_put(@s, source.to_s, event&.to_s, content_type, body) }
    end

    # The spooled deliveries, oldest first (replay order), as SpoolEntry.
    def list = @lock.synchronize { Core.spool_list(@s) }.map { |h| SpoolEntry.from(h) }

    # The records replays set aside (<name>.bad), each with its reason.
    def list_bad = @lock.synchronize { Core.spool_list_bad(@s) }.map { |h| SpoolEntry.from(h) }

    # Put the fixed set-aside record name (with or without ".bad") back; returns the name.
    def requeue(name) = @lock.synchronize { Core.spool_requeue(@s, name.to_s) }

    # Why the directory is unusable (with the fix), or nil. Deliveries the database accepts
    # still succeed; only spooling fails then.
    def warning = @lock.synchronize { Core.spool_warning(@s) }

    # Process the spooled deliveries into conn's database, oldest first, each exactly once;
    # returns a SpoolReplayReport. Raises when the database fails (what was committed stays).
    def replay(conn, limit: 0)
      h = conn.send(:synchronize) { @lock.synchronize { Core.spool_replay(@s, conn.send(:core), Integer(limit || 0)) } }
      SpoolReplayReport.new(**h)
    end

    def inspect = "#<Fastepost::Spool #{dir.inspect}>"

    private

    def locked = @lock.synchronize { yield @s }
  end
end
