# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The delivery spool (docs/spool.md): deliveries that arrive while PostgreSQL is unreachable
# are written to a directory and replayed later.
module Fastepost
  # One spooled delivery, with the keys of `fastepost spool list --json`: file name, source
  # ("odoo"; "?" for an unreadable file), event hint (nil for none), content_type, body size
  # bytes, spooled_at_us (microseconds since the epoch, UTC; as a UTC Time: spooled_at) and
  # reason (nil for a good record).
  SpoolEntry = Struct.new(:name, :source, :event, :content_type, :bytes, :spooled_at_us, :reason,
                          keyword_init: true) do
    def self.from(h) = new(**h)

    # spooled_at_us as a UTC Time.
    def spooled_at = Time.at(spooled_at_us / 1_000_000, spooled_at_us % 1_000_000, :usec).utc
  end

  # What Spool#replay did (the keys of `fastepost spool replay --json`): replayed (committed,
  # of which duplicates were in the database already), rejected (kept as <name>.bad) and
  # remaining.
  SpoolReplayReport = Struct.new(:status, :replayed, :duplicates, :rejected, :remaining, keyword_init: true)

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

      # nil or 0: the library's default for that limit.
      files = Integer(max_files || 0)
      bytes = Integer(max_bytes || 0)
      raise InvalidError, "spool limits must not be negative" if files.negative? || bytes.negative?

      Core.spool_set_limits(@s, files, bytes)
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
    # config: the WebhookConfig the deliveries came in with, so that each is read with its
    # source's section (monday's board columns, Odoo's barcode fields ...); nil for none.
    def replay(conn, limit: 0, config: nil)
      c = WebhookConfig.send(:core_of, config)
      limit = Integer(limit || 0)
      h = conn.send(:synchronize) do
        @lock.synchronize do
          c ? Core.webhook_spool_replay(@s, conn.send(:core), limit, c) : Core.spool_replay(@s, conn.send(:core), limit)
        end
      end
      SpoolReplayReport.new(**h)
    end

    def inspect = "#<Fastepost::Spool #{dir.inspect}>"

    private

    def locked = @lock.synchronize { yield @s }
  end
end
