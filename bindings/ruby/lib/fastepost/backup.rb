# frozen_string_literal: true

# Backups (docs/backup.md): BackupDir, BackupInfo and Connection#backup.
module Fastepost
  BACKUP_FORMATS = { plain: Core::BACKUP_PLAIN, custom: Core::BACKUP_CUSTOM }.freeze

  # One backup: name, size in bytes, time (a UTC Time, when it was started), format
  # ("plain" or "custom"), kind ("full" or "table") and table (of a table backup, else nil).
  BackupInfo = Struct.new(:name, :size, :time, :format, :kind, :table, keyword_init: true) do
    def self.from(h) = new(**h, time: Time.at(h[:time]).utc)
  end

  # A backup directory (docs/backup.md); path nil uses $FASTEPOST_BACKUP_DIR, else
  # $XDG_STATE_HOME/fastepost/backups, else ~/.local/state/fastepost/backups. It must be the
  # user's own and not writable by others. The environment (PATH, FASTEPOST_PG_*) is read once,
  # here. pg_dump, pg_restore and psql run with the GVL released.
  class BackupDir
    def initialize(path = nil)
      @lock = Monitor.new
      @d = Core::BackupDir.new(path.nil? ? Core.backup_default_dir : path.to_s)
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
      @lock.synchronize { Core.backup_list(@d, Integer(limit || 0)) }.map { |h| BackupInfo.from(h) }
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

    # Remove old backups: all but the keep: newest and/or those older than older_than_days:.
    # Returns the removed BackupInfo, newest first.
    def prune(keep: nil, older_than_days: nil)
      removed = @lock.synchronize do
        Core.backup_prune(@d, keep.nil? ? -1 : Integer(keep), older_than_days.nil? ? -1 : Integer(older_than_days))
      end
      removed.map { |h| BackupInfo.from(h) }
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
