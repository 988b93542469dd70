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

    def inspect
      closed? ? "#<Fastepost::Connection closed>" : "#<Fastepost::Connection database=#{database.inspect}>"
    end

    private

    def synchronize(&block) = @lock.synchronize(&block)
  end
end
