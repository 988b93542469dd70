# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Backups (docs/backup.md): BackupDir, BackupInfo and Connection#backup.
module Fastepost
  BACKUP_FORMATS = { plain: Core::BACKUP_FORMAT_PLAIN, custom: Core::BACKUP_FORMAT_CUSTOM }.freeze
  BACKUP_TOOLS = { pg_dump: Core::BACKUP_TOOL_PG_DUMP, pg_restore: Core::BACKUP_TOOL_PG_RESTORE,
                   psql: Core::BACKUP_TOOL_PSQL }.freeze
  # The environment variables that name a tool (the library reads none: this layer passes them on).
  BACKUP_TOOL_VARS = { pg_dump: "FASTEPOST_PG_DUMP", pg_restore: "FASTEPOST_PG_RESTORE",
                       psql: "FASTEPOST_PSQL" }.freeze
  US_PER_DAY = 86_400 * 1_000_000
  private_constant :BACKUP_TOOL_VARS, :US_PER_DAY

  # One backup: name, size_bytes, created_at and created_at_us (when it was started, ISO 8601 UTC
  # text and microseconds since the epoch; #created gives it as a UTC Time), format ("plain" or
  # "custom"), kind ("full" or "table") and table (of a table backup, else nil). to_h has the
  # keys and types of the CLI's --json.
  BackupInfo = Struct.new(:name, :size_bytes, :created_at, :created_at_us, :format, :kind, :table,
                          keyword_init: true) do
    def self.from(h) = new(**h)

    # The start time as a UTC Time.
    def created = Time.at(created_at_us / 1_000_000, created_at_us % 1_000_000, :usec).utc
  end

  # A backup directory (docs/backup.md); path nil uses BackupDir.default_dir, a relative path is
  # taken from the working directory now. It must be the user's own and not writable by others.
  # The library reads no environment: the constructor passes $FASTEPOST_PG_DUMP,
  # $FASTEPOST_PG_RESTORE, $FASTEPOST_PSQL and $PATH on (see #set_tool and #set_search_path to
  # choose otherwise). pg_dump, pg_restore and psql run with the GVL released.
  class BackupDir
    # The per-user default: $FASTEPOST_BACKUP_DIR, else $XDG_STATE_HOME/fastepost/backups (an
    # absolute XDG_STATE_HOME only), else ~/.local/state/fastepost/backups (NotFoundError when
    # none is usable).
    def self.default_dir
      env = ENV["FASTEPOST_BACKUP_DIR"]
      return File.expand_path(env) if env && !env.empty?

      Core.backup_default_dir(ENV["XDG_STATE_HOME"], ENV["HOME"])
    end

    def initialize(path = nil)
      @lock = Monitor.new
      @d = Core::BackupDir.new(path.nil? ? BackupDir.default_dir : File.expand_path(path.to_s))
      BACKUP_TOOL_VARS.each { |tool, var| set_tool(tool, ENV[var]) if ENV[var] && !ENV[var].empty? }
      set_search_path(ENV["PATH"])
    end

    # Run this program as tool (:pg_dump, :pg_restore or :psql) instead of searching for it;
    # nil goes back to searching.
    def set_tool(tool, path)
      t = BACKUP_TOOLS.fetch(tool.to_sym) { raise ArgumentError, "tool must be one of #{BACKUP_TOOLS.keys}, not #{tool.inspect}" }
      @lock.synchronize { Core.backup_dir_set_tool(@d, t, path&.to_s) }
      nil
    end

    # Where to search for the tools: directories separated by ":" (a PATH value); nil for the
    # library's default (/usr/lib/postgresql/<server major>/bin, then /usr/local/bin:/usr/bin:/bin).
    def set_search_path(search_path)
      @lock.synchronize { Core.backup_dir_set_search_path(@d, search_path&.to_s) }
      nil
    end

    # The absolute directory path.
    def dir = Core.backup_dir_path(@d)

    # Back up conn's database (or one table) with pg_dump as :plain SQL or :custom; returns the
    # new backup's name. The block, if any, is yielded (rows, bytes) as the dump grows
    # (returning false cancels).
    def create(conn, format: :plain, table: nil, &progress)
      fmt = BACKUP_FORMATS.fetch(format.to_sym) { raise ArgumentError, "format must be :plain or :custom, not #{format.inspect}" }
      conn.send(:synchronize) do
        @lock.synchronize { Core.backup_create(@d, conn.send(:core), fmt, table&.to_s, progress) }
      end
    end

    # The backups, newest first, as BackupInfo (limit nil or 0 for all).
    def list(limit: 10)
      limit = Integer(limit || 0)
      raise ArgumentError, "limit must be 0 (all) or more, not #{limit}" if limit.negative?

      @lock.synchronize { Core.backup_list(@d, limit) }.map { |h| BackupInfo.from(h) }
    end

    # The absolute path of a backup (NotFoundError/InvalidError for a bad name).
    def path(name) = Core.backup_path(@d, name.to_s)

    # The backup as a binary IO opened for reading; with a block, yields it and closes it
    # afterwards (returning the block's value).
    def open(name)
      io = IO.new(Core.backup_open(@d, name.to_s), "rb")
      return io unless block_given?

      begin
        yield io
      ensure
        io.close
      end
    end

    # Check the checksum (and for deep:, a test restore, which needs conn:); raises on a bad
    # backup, returns true.
    def verify(name, conn: nil, deep: false)
      if conn
        conn.send(:synchronize) { @lock.synchronize { Core.backup_verify(@d, conn.send(:core), name.to_s, deep ? 1 : 0) } }
      else
        @lock.synchronize { Core.backup_verify(@d, nil, name.to_s, deep ? 1 : 0) }
      end
      true
    end

    # Remove old backups: all but the keep: newest of each kind and/or those started more than
    # older_than_days: days ago (with both, only those beyond keep and older); at least one rule
    # (InvalidError otherwise; keep: 0 is no rule). all: true removes every backup. Returns the
    # removed BackupInfo, newest first.
    def prune(keep: nil, older_than_days: nil, all: false)
      if all
        raise ArgumentError, "all: true removes every backup; it takes no keep: or older_than_days:" if keep || older_than_days

        return @lock.synchronize { Core.backup_prune_all(@d) }.map { |h| BackupInfo.from(h) }
      end
      keep = keep.nil? ? 0 : Integer(keep)
      raise ArgumentError, "keep must be 1 or more, not #{keep}" if keep.negative?

      older_us = 0
      unless older_than_days.nil?
        raise ArgumentError, "older_than_days must be 0 or more, not #{older_than_days}" if older_than_days.negative?

        older_us = [1, (older_than_days * US_PER_DAY).to_i].max # 0 days: started before now
      end
      @lock.synchronize { Core.backup_prune(@d, keep, older_us) }.map { |h| BackupInfo.from(h) }
    end

    # Restore a backup into the database target (a conninfo or URL); restoring into conn's own
    # database needs force: true.
    def restore(name, conn, target, force: false)
      conn.send(:synchronize) { @lock.synchronize { Core.backup_restore(@d, conn.send(:core), name.to_s, target.to_s, force ? 1 : 0) } }
      nil
    end

    def inspect = "#<Fastepost::BackupDir #{dir.inspect}>"

    # The Core handle (Connection#db_stats).
    def core = @d
    private :core
  end

  class Connection
    # The backup method of Connection (included there).
    module BackupMethods
      # Back up the database into dir (a path or BackupDir; nil: the default); returns the
      # backup's name. See BackupDir#create.
      def backup(dir = nil, format: :plain, table: nil, &progress)
        backup_dir(dir || BackupDir.new).create(self, format: format, table: table, &progress)
      end

      private

      def backup_dir(dir) = dir.is_a?(BackupDir) ? dir : BackupDir.new(dir)
    end
  end
end
