# frozen_string_literal: true

# libfastepost for Ruby: CRM webhook ingestion and PostgreSQL data tools for Fast Epost.
#
#   require "fastepost"
#
#   Fastepost::Connection.open("postgresql:///fastepost") do |conn|
#     conn.schema_install            # => number of migrations applied
#     conn.schema_version.to_h       # => {current: 1, latest: 1}
#   end
#
# Every failure raises a subclass of Fastepost::Error named after the error code
# (InvalidError, ConnectionError, DatabaseError ...), with #code, #sqlstate and #message.
# Strings come back tagged UTF-8. Calls that wait on the database release the GVL, so other
# threads keep running. A Connection may be shared between threads: its calls are serialised.
#
# This file is the hand-written layer over Fastepost::Core, the SWIG extension generated from
# bindings/fastepost.i, which mirrors the C API one to one. See docs/bindings.md.
require "monitor"
require "fastepost/core"

module Fastepost
  # The exception classes are defined by the extension (one per error code, all under
  # Fastepost::Error < StandardError), so that they exist before anything can raise:
  #
  #   Error            FASTEPOST_ERROR, and codes newer than this binding
  #   NoMemoryError    ENOMEM      InvalidError   EINVALID    NotFoundError  ENOTFOUND
  #   ConflictError    ECONFLICT   ParseError     EPARSE      DatabaseError  EDB
  #   ConnectionError  ECONN       IOError        EIO         ExternalError  EEXTERNAL
  #   AuthError        EAUTH       TooBigError    ETOOBIG     NoKeyError     ENOKEY
  #   VersionError     EVERSION    CanceledError  ECANCELED   BusyError      EBUSY
  #   TimeoutError     ETIMEOUT    FullError      EFULL       ReadOnlyError  EREADONLY
  #
  # Each class has CODE; each exception #code, #sqlstate ("" unless from the server), #message.
  # (Inside `module Fastepost`, IOError means Fastepost::IOError: write ::IOError for Ruby's.)
  class Error
    def inspect
      "#<#{self.class.name}: #{message} (#{Core.error_name(code)}#{sqlstate.empty? ? '' : " #{sqlstate}"})>"
    end
  end

  # The version of the headers this binding was compiled against.
  VERSION = Core::VERSION

  # The version of the libfastepost actually loaded, e.g. "0.1.0".
  def self.version
    Core.libversion[0]
  end

  # The loaded library's version as [major, minor, patch].
  def self.version_info
    Core.libversion[1, 3]
  end

  if version_info[0] != Core::VERSION_MAJOR
    raise LoadError, "fastepost: compiled for libfastepost #{VERSION} but loaded #{version}"
  end

  # Fixed English text for an error code (Fastepost::Core::EDB ...).
  def self.strerror(code) = Core.strerror(code)

  # The symbolic name of an error code, e.g. "FASTEPOST_EDB".
  def self.error_name(code) = Core.error_name(code)

  # The SQL of every schema migration, in order, as one script.
  def self.schema_sql = Core.schema_sql

  # Same as Connection.open.
  def self.connect(url = "", **options, &block) = Connection.open(url, **options, &block)

  # The schema version of a database (current) and the newest this library knows (latest).
  # Results own their data: they outlive the connection.
  SchemaVersion = Struct.new(:current, :latest, keyword_init: true) do
    def up_to_date? = current == latest
  end

  # Results with nested results: #to_h converts them too.
  module DeepHash
    def to_h
      super.transform_values { |v| DeepHash.plain(v) }
    end

    def self.plain(value)
      case value
      when Struct then value.to_h
      when Array then value.map { |v| plain(v) }
      else value
      end
    end
  end

  # One rejected value or row of an import: line in the file (1 = header; 0 when no single
  # row is concerned), column ("" for the whole row), value (a short preview) and reason.
  ImportRowError = Struct.new(:line, :column, :value, :reason, keyword_init: true)

  # The outcome of Connection#import_csv. rows_written is 0 in a dry run and after any failure;
  # error_total is a lower bound when errors_complete is false; errors lists the first
  # max_errors ImportRowError.
  ImportReport = Struct.new(:rows_read, :rows_inserted, :rows_updated, :rows_skipped, :rows_written,
                            :bytes_read, :dry_run, :error_total, :errors_complete, :errors,
                            keyword_init: true) do
    include DeepHash
    def ok? = error_total.zero?
    def dry_run? = dry_run

    def self.from(h) = new(**h, errors: h[:errors].map { |e| ImportRowError.new(**e) })
  end

  # CRM statistics (docs/crm-stats.md). success_rate is a percentage with one decimal, or nil
  # when no event has finished; times are ISO 8601 UTC text (nil without) with *_ms twins.
  CrmSourceStats = Struct.new(:source, :total_events, :events_24h, :success_events, :error_events,
                              :dead_events, :pending_events, :success_rate, :badge, :last_event_at,
                              :last_event_at_ms, :last_event_type, keyword_init: true)
  CrmSyncStats = Struct.new(:total_customers, :synced_customers, :pending_tasks, :last_sync_at,
                            :last_sync_at_ms, keyword_init: true)
  CrmRecentEvent = Struct.new(:id, :source, :event_type, :status, :outcome, :error, :created_at,
                              :created_at_ms, :time_ago, keyword_init: true)
  CrmSetup = Struct.new(:odoo_webhook_url, :odoo_webhook_url_with_key, :odoo_api_key_header,
                        :odoo_api_key_param, :hubspot_webhook_url, :hubspot_signature_header,
                        :hubspot_timestamp_header, keyword_init: true)
  # sources (alphabetical, always with hubspot and odoo), sync, recent (newest first, at most
  # 20), setup, and the clock they were computed for.
  CrmStats = Struct.new(:generated_at, :generated_at_ms, :sources, :sync, :recent, :setup,
                        keyword_init: true) do
    include DeepHash
    # The CrmSourceStats of a source ("hubspot"), or nil.
    def source(name) = sources.find { |s| s.source == name.to_s }

    def self.from(h)
      new(generated_at: h[:generated_at], generated_at_ms: h[:generated_at_ms],
          sources: h[:sources].map { |x| CrmSourceStats.new(**x) },
          sync: CrmSyncStats.new(**h[:sync]),
          recent: h[:recent].map { |x| CrmRecentEvent.new(**x) },
          setup: CrmSetup.new(**h[:setup]))
    end
  end

  # The dashboard's "time ago" text ("just now", "3 minutes ago", "2 days ago" ...).
  def self.time_ago(then_ms, now_ms) = Core.time_ago(Integer(then_ms), Integer(now_ms))

  HUBSPOT_VERSIONS = { "v1" => Core::HUBSPOT_V1, "v2" => Core::HUBSPOT_V2, "v3" => Core::HUBSPOT_V3 }.freeze

  # Verifies HubSpot webhook signatures (docs/hubspot.md): one or more client secrets (several
  # during a rotation; wiped from memory when collected), the accepted versions (default
  # [:v3]), the replay window and the body limit.
  #
  #   verifier = Fastepost::HubSpotVerifier.new(secrets: [ENV.fetch("HUBSPOT_CLIENT_SECRET")])
  #   verifier.verify(method: "POST", uri: public_url, body: request.raw_post,
  #                   signature: request.headers["X-HubSpot-Signature-v3"],
  #                   timestamp: request.headers["X-HubSpot-Request-Timestamp"])
  class HubSpotVerifier
    def initialize(secrets: [], versions: nil, tolerance_ms: nil, now_ms: nil, max_body: nil)
      @lock = Monitor.new
      @v = Core::HubSpotVerifier.new
      Array(secrets).each { |s| add_secret(s) }
      self.versions = versions if versions
      Core.hubspot_verifier_set_tolerance(@v, Integer(tolerance_ms)) if tolerance_ms
      self.now_ms = now_ms if now_ms
      Core.hubspot_verifier_set_max_body(@v, Integer(max_body)) if max_body
    end

    # Add a client secret (at most 8; TooBigError beyond).
    def add_secret(secret)
      @lock.synchronize { Core.hubspot_verifier_add_secret(@v, secret) }
      self
    end

    # Forget every secret: every request then fails with NoKeyError.
    def clear_secrets
      @lock.synchronize { Core.hubspot_verifier_clear_secrets(@v) }
      self
    end

    # The accepted versions: [:v3], %w[v1 v2 v3] ...
    def versions=(names)
      bits = Array(names).sum do |name|
        HUBSPOT_VERSIONS.fetch(name.to_s) { raise ArgumentError, "unknown HubSpot signature version #{name.inspect}" }
      end
      @lock.synchronize { Core.hubspot_verifier_set_versions(@v, bits) }
    end

    # A fixed clock in ms since the epoch (tests, replays); nil returns to the system clock.
    def now_ms=(ms)
      @lock.synchronize { Core.hubspot_verifier_set_now(@v, ms.nil? ? -1 : Integer(ms)) }
    end

    # Yields the Core verifier under the lock (Connection#hubspot_process).
    def locked
      @lock.synchronize { yield @v }
    end
    private :locked

    # Verify one request over the exact body bytes received. Header values may be nil when
    # missing. Returns the index of the secret that matched. Raises AuthError (refuse the
    # request; the message says why), NoKeyError (no secret), TooBigError (body over the
    # limit), InvalidError (unknown version name).
    def verify(method:, uri:, body:, signature:, timestamp: nil, version: "v3")
      @lock.synchronize do
        Core.hubspot_verify(@v, version&.to_s, method, uri, timestamp&.to_s, signature, body)
      end
    end
  end

  # Verify one request with a one-off HubSpotVerifier (secret: a String or an Array of them).
  # Returns the index of the matching secret; raises as HubSpotVerifier#verify.
  def self.hubspot_verify(secret:, method:, uri:, body:, signature:, timestamp: nil, version: "v3", **options)
    options[:versions] ||= [version]
    HubSpotVerifier.new(secrets: Array(secret), **options)
                   .verify(method: method, uri: uri, body: body, signature: signature,
                           timestamp: timestamp, version: version)
  end

  # The signature HubSpot would send (Base64 for v3, hex for v1/v2), to test an endpoint.
  def self.hubspot_sign(secret:, body:, method: nil, uri: nil, timestamp: nil, version: "v3")
    bits = HUBSPOT_VERSIONS.fetch(version.to_s) { raise ArgumentError, "unknown HubSpot signature version #{version.inspect}" }
    Core.hubspot_sign(bits, secret, method, uri, timestamp&.to_s, body)
  end

  # The URI as HubSpot decodes it before signing with v3 (12 escapes decoded).
  def self.hubspot_decode_uri(uri) = Core.hubspot_decode_uri(uri)

  # The HTTP status a webhook endpoint answers for a status code (0 -> 200, ParseError -> 400,
  # AuthError -> 401, ConflictError -> 409, TooBigError -> 413, ConnectionError/BusyError ->
  # 503, else 500).
  def self.status_http(code) = Core.status_http(Integer(code))

  # Check the key an Odoo request presented (X-Odoo-Api-Key header or ?api_key=) in constant
  # time; expected nil reads ENV["ODOO_API_KEY"] (at call time). Returns true; raises NoKeyError
  # (no key configured) or AuthError (missing or wrong key), both with #http_status 401.
  # Connection#odoo_process checks the key itself: this is for hosts that check it elsewhere.
  def self.odoo_authenticate(expected, presented)
    expected = ENV["ODOO_API_KEY"] if expected.nil?
    Core.odoo_authenticate(expected&.to_s, presented&.to_s)
    true
  end

  # The accepted keys as an Array of Strings: nil reads ENV["ODOO_API_KEY"] now (one key, or
  # none: then every request is refused with NoKeyError); one String is an Array of one.
  def self.expected_odoo_keys(expected_keys)
    if expected_keys.nil?
      key = ENV["ODOO_API_KEY"]
      return key.nil? || key.empty? ? [] : [key]
    end
    Array(expected_keys).map do |k|
      k = String.try_convert(k) or raise TypeError, "an expected key must be a String, not #{k.class}"
      raise InvalidError, "an expected Odoo API key must not be empty or contain a NUL byte" if k.empty? || k.include?("\0")
      k
    end
  end
  private_class_method :expected_odoo_keys

  # nil, "" and a key with a NUL byte all reach the library as no key or a wrong one.
  def self.presented_odoo_key(api_key)
    return nil if api_key.nil?
    key = String.try_convert(api_key) or raise TypeError, "api_key must be a String, not #{api_key.class}"
    key.include?("\0") ? "" : key
  end
  private_class_method :presented_odoo_key

  # What processing one delivery did: code (0 or the error code), status ("ok" or the error
  # name, "FASTEPOST_EPARSE" ...), http_status (answer this), outcome ("created", "updated",
  # "unchanged", "stale", "ignored", "conflict", "duplicate"; "" when it failed before a
  # decision), the ids written (0 for none), warnings and error (the message, or nil). HubSpot
  # events also have type and object_id.
  EventResult = Struct.new(:code, :status, :http_status, :outcome, :event_id, :customer_id, :remark_id,
                           :task_id, :warnings, :error, :type, :object_id, keyword_init: true) do
    def ok? = code.zero?

    def to_h
      h = super
      type.nil? && object_id.nil? ? h.except(:type, :object_id) : h
    end
  end

  # What processing one HubSpot request did: status/code/http_status of the whole batch, count
  # events of which failed failed, and events (EventResult each, with type and object_id).
  HubSpotBatch = Struct.new(:code, :status, :http_status, :count, :failed, :events, keyword_init: true) do
    include DeepHash
    def ok? = code.zero?

    def self.from(h) = new(**h, events: h[:events].map { |e| EventResult.new(**e) })
  end

  # One integration_events row (times UTC text "YYYY-MM-DD HH:MM:SS.ffffff", "" for none).
  Event = Struct.new(:id, :source, :event_type, :status, :outcome, :external_id, :error_message, :attempts,
                     :customer_id, :created_at, :processed_at, :next_attempt_at, keyword_init: true)

  # What Connection#events_retry did.
  RetryReport = Struct.new(:attempted, :succeeded, :failed, :dead, keyword_init: true)

  # Connection#odoo_process for a host that may have no connection: with conn nil (connecting
  # failed) the delivery goes straight to spool: (a Spool or a directory; required then) and
  # the result says "spooled", http_status 202. The key is checked first, also then: a refused
  # request is never spooled.
  def self.odoo_process(body, conn: nil, api_key: nil, expected_keys: nil, host_authenticated: false, spool: nil,
                        event: nil, content_type: nil, max_body: nil, max_depth: nil, barcode_fields: nil)
    keys = expected_odoo_keys(expected_keys)
    api_key = presented_odoo_key(api_key)
    spool = Spool.new(spool) unless spool.nil? || spool.is_a?(Spool)
    raise InvalidError, "odoo_process without a connection needs a spool" if conn.nil? && spool.nil?
    call = lambda do |core_conn|
      args = [core_conn, body, api_key, keys, host_authenticated ? 1 : 0, event&.to_s, content_type,
              Integer(max_body || 0), Integer(max_depth || 0), barcode_fields&.to_s]
      spool ? spool.send(:locked) { |s| Core.odoo_process(*args, s) } : Core.odoo_process(*args, nil)
    end
    h = begin
      conn ? conn.send(:synchronize) { call.call(conn.send(:core)) } : call.call(nil)
    rescue Error => e
      e.instance_variable_set(:@result, EventResult.new(**e.result)) if e.result.is_a?(Hash)
      raise
    end
    EventResult.new(**h)
  end

  # One spooled delivery: file name, source ("odoo"; "?" for an unreadable file), event hint
  # ("" for none), content_type, body size bytes and spooled_at (a UTC Time).
  SpoolEntry = Struct.new(:name, :source, :event, :content_type, :bytes, :spooled_at, keyword_init: true) do
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

    # Spool one delivery durably; returns the file name. TooBigError when the spool is full.
    def put(body, source: "odoo", event: nil, content_type: nil)
      @lock.synchronize { Core.spool_put(@s, source.to_s, event&.to_s, content_type, body) }
    end

    # The spooled deliveries, oldest first (replay order), as SpoolEntry.
    def list = @lock.synchronize { Core.spool_list(@s) }.map { |h| SpoolEntry.from(h) }

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

  BACKUP_FORMATS = { plain: Core::BACKUP_PLAIN, custom: Core::BACKUP_CUSTOM }.freeze

  # One backup: name, size in bytes, time (a UTC Time, when it was started) and format
  # ("plain" or "custom").
  BackupInfo = Struct.new(:name, :size, :time, :format, keyword_init: true) do
    def self.from(h) = new(**h, time: Time.at(h[:time]).utc)
  end

  # A backup directory (docs/backup.md); path nil uses $FASTEPOST_BACKUP_DIR, else tmp/backups.
  # pg_dump, pg_restore and psql run with the GVL released.
  class BackupDir
    def initialize(path = nil)
      @lock = Monitor.new
      @d = Core::BackupDir.new(path&.to_s)
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

  # One table of DbStats: rows_estimate (-1 unknown), rows_exact (-1 unless asked), sizes.
  DbTableStats = Struct.new(:name, :rows_estimate, :rows_exact, :total_bytes, :table_bytes, :index_bytes,
                            keyword_init: true)
  # The database figures (docs/stats.md): database, size_bytes, tables (largest first),
  # backup_count (-1 without a backup directory) and newest_backup (BackupInfo or nil).
  DbStats = Struct.new(:database, :size_bytes, :tables, :backup_count, :newest_backup, keyword_init: true) do
    include DeepHash
    def self.from(h)
      new(**h, tables: h[:tables].map { |t| DbTableStats.new(**t) },
               newest_backup: h[:newest_backup] && BackupInfo.from(h[:newest_backup]))
    end
  end

  # A connection to the PostgreSQL database holding the Fast Epost tables.
  class Connection
    # Connect. With a block, yields the connection and closes it afterwards (returning the
    # block's value); without, returns it.
    #
    #   url                a libpq connection string or URL; "" uses the PG* variables
    #   statement_timeout: seconds any one statement may run (nil/0: no limit)
    #
    # Raises InvalidError (unparsable string), ConnectionError, VersionError (server < 12).
    def self.open(url = "", **options)
      conn = new(url, **options)
      return conn unless block_given?

      begin
        yield conn
      ensure
        conn.close
      end
    end

    def initialize(url = "", statement_timeout: nil)
      @lock = Monitor.new
      @conn = Core::Conn.new(url)
      @statement_timeout = 0
      self.statement_timeout = statement_timeout if statement_timeout
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

    # True once #close was called.
    def closed? = Core.conn_server_version(@conn).zero?

    # Check that the server answers; raises ConnectionError if not.
    def ping
      synchronize { Core.conn_ping(@conn) }
      true
    end

    # The server's version number (150004 for 15.4), 0 when closed.
    def server_version = Core.conn_server_version(@conn)

    # The name of the connected database ("" when closed).
    def database = Core.conn_database(@conn)

    # Seconds any one statement may run (0: no limit). Kept across #reset.
    attr_reader :statement_timeout

    def statement_timeout=(seconds)
      synchronize { Core.conn_set_statement_timeout(@conn, ((seconds || 0) * 1000).round) }
      @statement_timeout = seconds || 0
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

    CONFLICT = { error: Core::CONFLICT_ERROR, skip: Core::CONFLICT_SKIP, update: Core::CONFLICT_UPDATE }.freeze

    # Export a table as format (:csv, :json, :ndjson or :sql; :sql without a table dumps the
    # whole database with pg_dump). See docs/transfer.md.
    #
    #   io:       anything with #write (an IO, StringIO ...) gets the output in pieces
    #   path:     write a file instead (mode 0600, removed on failure)
    #             with neither, the output is returned as a UTF-8 String
    #   columns:  column names, in output order (default: all)
    #   where:    filters combined with AND: [column, op, value] (op "=", "!=", "<", "<=", ">",
    #             ">=", "like", "ilike"), [column, :is_null], [column, :not_null], or text such
    #             as "email ilike %@x.de"; a Hash {column => value} means equality
    #   order:    a column or an Array of them; "-id" or [:id, :desc] (inside the Array)
    #             descending: order: "-id", order: [[:id, :desc], :name]
    #   limit:    at most this many rows;  schemas: allow tables only from these schemas
    #   block:    progress, yielded (rows, bytes) every so often and at the end; returning
    #             false stops the export (CanceledError)
    #
    # Raises NotFoundError (unknown or disallowed table or column), InvalidError (a filter
    # value that does not fit its column ...). An exception (or break/throw) in io.write or the
    # block stops the export and propagates.
    def export(table = nil, format: :csv, io: nil, path: nil, columns: nil, where: nil, order: nil,
               limit: nil, schemas: nil, &progress)
      opts = export_options(table, format, columns, where, order, limit, schemas)
      if path
        synchronize { Core.export_to_file(@conn, opts, path.to_s, progress) }
        return nil
      end
      out = io ? nil : String.new(encoding: Encoding::UTF_8)
      write = io ? ->(chunk) { io.write(chunk) } : ->(chunk) { out << chunk }
      synchronize { Core.export_run(@conn, opts, write, progress) }
      out
    end

    # Export every table of the allowed schemas into dir (created, mode 0700), one file per
    # table (customers.csv; schema.table.csv outside public), as :csv, :json or :ndjson.
    # Returns the number of files written.
    def export_all(dir, format: :csv, schemas: nil, &progress)
      opts = export_options(nil, format, nil, nil, nil, nil, schemas)
      synchronize { Core.export_all(@conn, opts, dir.to_s, progress) }
    end

    # Import a CSV file (with a header line) into table, all or nothing, validating every value
    # first. See docs/transfer.md.
    #
    #   source        a path (String, Pathname) or an IO-like object with #read(size)
    #   dry_run:      do everything, database checks included, then roll back
    #   on_conflict:  :error (default), :skip (keep existing rows) or :update
    #   key:          the conflict key column for :skip / :update
    #   max_errors:   how many row errors the report lists (default 100)
    #   block:        progress, yielded (rows, bytes); returning false stops and rolls back
    #
    # Returns an ImportReport. A failed import writes nothing and raises ParseError,
    # InvalidError, ConflictError, NotFoundError ... whose #report is the ImportReport with the
    # rejected rows. An exception in source.read or the block rolls back and propagates.
    def import_csv(table, source, dry_run: false, on_conflict: :error, key: nil, max_errors: nil, &progress)
      mode = CONFLICT.fetch(on_conflict.to_sym) do
        raise ArgumentError, "on_conflict must be one of #{CONFLICT.keys.inspect}, not #{on_conflict.inspect}"
      end
      # (A Pathname has #read too, but reads from the start on every call: it is a path.)
      path, read = if source.is_a?(String) || (defined?(Pathname) && source.is_a?(Pathname))
                     [source.to_s, nil]
                   elsif source.respond_to?(:read)
                     [nil, ->(size) { source.read(size) }]
                   else
                     raise TypeError, "import_csv: source must be a path or respond to #read, not #{source.class}"
                   end
      report = synchronize do
        Core.import_csv(@conn, table, path, read, dry_run ? 1 : 0, mode, key&.to_s, Integer(max_errors || 0), progress)
      end
      ImportReport.from(report)
    rescue Error => e
      e.instance_variable_set(:@report, ImportReport.from(e.report)) if e.report.is_a?(Hash)
      raise
    end

    # Process one Odoo webhook delivery (the raw body) into customers, remarks and task links;
    # see docs/odoo.md. Returns an EventResult.
    #
    #   api_key:        the key the request presented (X-Odoo-Api-Key, else ?api_key=); nil or
    #                   "" when none. Always checked before anything is written: a missing,
    #                   empty or wrong key raises AuthError (#http_status 401), writes nothing
    #   expected_keys:  the accepted keys, an Array (several while a key is rotated) or one
    #                   String; nil reads ENV["ODOO_API_KEY"] at call time. None configured:
    #                   NoKeyError (401) for every request
    #   host_authenticated: true only when the host has authenticated the request itself
    #                   (api_key is then ignored): the explicit opt-out of the key check
    #   event:          the URL's ?event= hint: "create", "write", "unlink", "archive"
    #   content_type:   the request's Content-Type (JSON or form-urlencoded)
    #   max_body:       largest body accepted (default 1 MiB)
    #   max_depth:      deepest JSON nesting accepted (2..1000)
    #   barcode_fields: the fields matched against tasks.barcode, comma-separated
    #   spool:          a Spool or a directory: a delivery that cannot reach the database is
    #                   written there instead (outcome "spooled", http_status 202; docs/spool.md)
    #
    # Raises ParseError, InvalidError, ConflictError, TooBigError, ConnectionError ... with
    # #result (the EventResult: the event is logged) and #http_status to answer.
    def odoo_process(body, **options) = Fastepost.odoo_process(body, conn: self, **options)

    # Process several deliveries in one transaction (each in a savepoint: a failing one does not
    # affect the others). Returns an Array of EventResult, each with its own code. Raises when
    # the batch could not be committed (#result the Array). Never spools (all or nothing).
    # api_key: an Array with the key each request presented, or one key for all; a refused
    # delivery gets its own 401 result (code AuthError / NoKeyError) and writes nothing.
    def odoo_process_batch(bodies, api_key: nil, expected_keys: nil, host_authenticated: false, event: nil,
                           content_type: nil, max_body: nil, max_depth: nil, barcode_fields: nil)
      keys = Fastepost.send(:expected_odoo_keys, expected_keys)
      bodies = bodies.map { |b| String.try_convert(b) or raise TypeError, "a body must be a String, not #{b.class}" }
      presented = if api_key.is_a?(Array)
                    raise InvalidError, "#{api_key.size} keys for #{bodies.size} bodies" if api_key.size != bodies.size

                    api_key.map { |k| Fastepost.send(:presented_odoo_key, k) || "" }
                  else
                    [Fastepost.send(:presented_odoo_key, api_key) || ""] * bodies.size
                  end
      convert = ->(list) { list.map { |r| r && EventResult.new(**r) } }
      convert.call(with_result(convert) do
        Core.odoo_process_batch(@conn, bodies, presented, keys, host_authenticated ? 1 : 0, event&.to_s, content_type,
                                Integer(max_body || 0), Integer(max_depth || 0), barcode_fields&.to_s)
      end)
    end

    # Verify a HubSpot webhook request and ingest its batch (docs/hubspot.md). Pass secrets:
    # (the app's client secrets) or a ready verifier:. Header values may be nil when missing.
    # Returns a HubSpotBatch (events that failed alone are in it with their own code). A
    # refused request raises AuthError, NoKeyError, ParseError, TooBigError ... with
    # #http_status and #result (the HubSpotBatch, no events).
    def hubspot_process(body, secrets: [], method: "POST", uri: nil, timestamp: nil, signature: nil,
                        version: "v3", now_ms: nil, max_events: nil, verifier: nil)
      verifier ||= HubSpotVerifier.new(secrets: Array(secrets), versions: version && [version], now_ms: now_ms)
      h = with_result(->(b) { HubSpotBatch.from(b) }) do
        verifier.send(:locked) do |v|
          Core.hubspot_process(@conn, v, version&.to_s, method, uri, timestamp&.to_s, signature, body,
                               Integer(max_events || 0))
        end
      end
      HubSpotBatch.from(h)
    end

    # The newest integration events (Event), optionally only of one source ("odoo",
    # "hubspot") or status ("pending", "success", "error", "dead").
    def events(source: nil, status: nil, limit: 50)
      synchronize { Core.events_list(@conn, source&.to_s, status&.to_s, Integer(limit)) }.map { |h| Event.new(**h) }
    end

    # Process again the events that failed transiently and are due; a RetryReport.
    def events_retry(limit: 100)
      RetryReport.new(**synchronize { Core.events_retry(@conn, Integer(limit)) })
    end

    # Back up the database into dir (a path or BackupDir; nil: the default); returns the
    # backup's name. See BackupDir#create.
    def backup(dir = nil, format: :plain, table: nil, &progress)
      backup_dir(dir || BackupDir.new).create(self, format: format, table: table, &progress)
    end

    # The database figures as a DbStats; backups: (a path or BackupDir) adds the backup count;
    # exact: counts every table's rows.
    def db_stats(backups: nil, exact: false)
      d = backups && backup_dir(backups)
      DbStats.from(synchronize { Core.stats_db(@conn, d&.send(:core), exact ? 1 : 0) })
    end

    # The self-contained HTML report (docs/report.md) as a UTF-8 String.
    def report_html(backup_dir: nil, base_url: nil, title: nil)
      backup_dir = backup_dir.dir if backup_dir.is_a?(BackupDir)
      synchronize { Core.report_html(@conn, backup_dir&.to_s, base_url, title) }
    end

    # The CRM dashboard's figures as a CrmStats. base_url ("https://...") makes the set-up URLs
    # absolute; now_ms fixes the clock (default: the server's). Raises VersionError before
    # schema version 2, InvalidError for a base URL that is not http(s).
    def crm_stats(base_url = nil, now_ms: nil)
      h = synchronize { Core.crm_stats_collect(@conn, base_url, now_ms.nil? ? -1 : Integer(now_ms)) }
      CrmStats.from(h)
    end

    # Recount the CRM counters from the tables (only needed after writes with the triggers
    # disabled).
    def crm_stats_rebuild
      synchronize { Core.crm_stats_rebuild(@conn) }
      nil
    end

    def inspect
      closed? ? "#<Fastepost::Connection closed>" : "#<Fastepost::Connection database=#{database.inspect}>"
    end

    private

    def synchronize(&block) = @lock.synchronize(&block)

    # The Core handle (BackupDir, Spool).
    def core = @conn

    def backup_dir(dir) = dir.is_a?(BackupDir) ? dir : BackupDir.new(dir)

    # Run the call; an exception's raw #result (Hash/Array) becomes convert's object.
    def with_result(convert)
      synchronize { yield }
    rescue Error => e
      e.instance_variable_set(:@result, convert.call(e.result)) if e.result.is_a?(Hash) || e.result.is_a?(Array)
      raise
    end

    def export_options(table, format, columns, where, order, limit, schemas)
      opts = Core::ExportOptions.new
      Core.export_options_set_table(opts, table&.to_s)
      Core.export_options_set_format(opts, Core.export_format_parse(format.to_s))
      Array(columns).each { |c| Core.export_options_add_column(opts, c.to_s) }
      filters = case where
                when nil then []
                when Hash then where.map { |c, v| [c, "=", v] }
                when String then [where]
                else where
                end
      filters.each do |f|
        next Core.export_options_add_filter_expr(opts, f) if f.is_a?(String)

        column, op, *value = f
        raise ArgumentError, "a filter is [column, op, value] or [column, op], not #{f.inspect}" if value.size > 1

        Core.export_options_add_filter(opts, column.to_s, Core.filter_op_parse(op.to_s), value.first&.to_s)
      end
      (order.is_a?(Array) ? order : [order].compact).each do |key|
        column, descending = if key.is_a?(Array)
                               [key[0].to_s, key[1].to_s.downcase.start_with?("desc")]
                             else
                               key.to_s.start_with?("-") ? [key.to_s[1..], true] : [key.to_s, false]
                             end
        Core.export_options_add_order(opts, column, descending ? 1 : 0)
      end
      Core.export_options_set_limit(opts, Integer(limit)) if limit
      Array(schemas).each { |sch| Core.export_options_allow_schema(opts, sch.to_s) }
      opts
    end
  end
end
