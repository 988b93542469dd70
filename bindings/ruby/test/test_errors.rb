# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Every exception class: the mapping from codes, the attributes, and the real failures the
# current API produces.
require_relative "support"
require "stringio"

class TestErrorClasses < Minitest::Test
  Core = Fastepost::Core
  CLASSES = {
    Core::ENOMEM => Fastepost::NoMemoryError, Core::EINVALID => Fastepost::InvalidError,
    Core::ENOTFOUND => Fastepost::NotFoundError, Core::ECONFLICT => Fastepost::ConflictError,
    Core::EPARSE => Fastepost::ParseError, Core::EDB => Fastepost::DatabaseError,
    Core::ECONN => Fastepost::ConnectionError, Core::EIO => Fastepost::IOError,
    Core::EEXTERNAL => Fastepost::ExternalError, Core::EAUTH => Fastepost::AuthError,
    Core::ETOOBIG => Fastepost::TooBigError, Core::ENOKEY => Fastepost::NoKeyError,
    Core::EVERSION => Fastepost::VersionError, Core::ECANCELED => Fastepost::CanceledError,
    Core::EBUSY => Fastepost::BusyError, Core::ETIMEOUT => Fastepost::TimeoutError,
    Core::EFULL => Fastepost::FullError, Core::EREADONLY => Fastepost::ReadOnlyError
  }.freeze

  def test_every_code_raises_its_class
    assert_equal 18, CLASSES.size
    CLASSES.each do |code, cls|
      assert_operator cls, :<, Fastepost::Error
      assert_equal code, cls::CODE
      e = assert_raises(cls) { Core._raise_code(code, "message for #{cls} ✓", "42P01") }
      assert_instance_of cls, e
      assert_equal code, e.code
      assert_equal "42P01", e.sqlstate
      assert_equal "message for #{cls} ✓", e.message
      assert_equal Encoding::UTF_8, e.message.encoding
      assert_equal Encoding::UTF_8, e.sqlstate.encoding
    end
  end

  def test_base_class
    assert_operator Fastepost::Error, :<, StandardError
    [Core::ERROR, -999].each do |code|
      e = assert_raises(Fastepost::Error) { Core._raise_code(code, "something", "") }
      assert_instance_of Fastepost::Error, e
      assert_equal code, e.code
      assert_equal "", e.sqlstate
    end
    assert_match(/FASTEPOST_EDB 42P01/, Fastepost::DatabaseError.new("x").tap { |e|
      e.instance_variable_set(:@code, Core::EDB)
      e.instance_variable_set(:@sqlstate, "42P01")
    }.inspect)
  end

  def test_names_and_texts
    assert_equal "FASTEPOST_EDB", Fastepost.error_name(Core::EDB)
    assert_equal "database error", Fastepost.strerror(Core::EDB)
    assert_equal "FASTEPOST_UNKNOWN", Fastepost.error_name(-999)
  end
end

class TestRealFailures < DbTest
  def test_invalid_connection_string
    e = assert_raises(Fastepost::InvalidError) { Fastepost::Connection.open("host=localhost =broken") }
    assert_match(/invalid connection string/, e.message)
    assert_equal Fastepost::Core::EINVALID, e.code
  end

  def test_unreachable_server
    e = assert_raises(Fastepost::ConnectionError) do
      Fastepost::Connection.open("host=/nonexistent/socket/dir dbname=x connect_timeout=2")
    end
    assert_match(/cannot connect/, e.message)
    assert_equal "", e.sqlstate
  end

  def test_missing_database_is_a_connection_error
    e = assert_raises(Fastepost::ConnectionError) { Fastepost.connect(dsn_for("fp_no_such_database")) }
    assert_match(/fp_no_such_database/, e.message)
  end

  def test_wrong_password
    assert_raises(Fastepost::ConnectionError) do
      Fastepost.connect("#{server_dsn} user=fp_password password=wrong")
    end
  end

  def test_closed_connection
    Fastepost::Connection.open(@dsn) do |conn|
      conn.close
      e = assert_raises(Fastepost::ConnectionError) { conn.ping }
      assert_match(/closed/, e.message)
      assert_raises(Fastepost::ConnectionError) { conn.schema_install }
    end
  end

  def test_negative_statement_timeout
    Fastepost::Connection.open(@dsn) do |conn|
      assert_raises(Fastepost::InvalidError) { conn.statement_timeout = -1 }
    end
  end

  def test_database_error_carries_the_sqlstate
    Fastepost::Connection.open("#{@dsn} options='-c default_transaction_read_only=on'") do |conn|
      e = assert_raises(Fastepost::ReadOnlyError) { conn.schema_install } # 25006: 503
      assert_equal "25006", e.sqlstate
      assert_equal Fastepost::Core::EREADONLY, e.code
      assert_match(/read-only/, e.message)
      assert conn.ping
    end
  end

  def test_version_conflict
    Fastepost::Connection.open(@dsn) do |conn|
      conn.schema_install
      sql("INSERT INTO fastepost_schema_migrations (version, name) VALUES (9999, 'future')")
      e = assert_raises(Fastepost::VersionError) { conn.schema_install }
      assert_match(/9999/, e.message)
    end
  end

  def test_incompatible_table
    sql("CREATE TABLE customers (id bigserial PRIMARY KEY, email integer)")
    Fastepost::Connection.open(@dsn) do |conn|
      e = assert_raises(Fastepost::ConflictError) { conn.schema_install }
      assert_match(/email/, e.message)
      assert_equal 0, conn.schema_version.current
    end
  end

  def test_bad_argument_types
    assert_raises(TypeError) { Fastepost.connect(42) }
    assert_raises(ArgumentError) { Fastepost.connect("dbname=a\0b") }
    assert_raises(TypeError) { Fastepost::Core.schema_install(nil) }
    assert_raises(TypeError) { Fastepost::Core.schema_install("not a connection") }
    Fastepost::Connection.open(@dsn) do |conn|
      assert_raises(TypeError) { conn.statement_timeout = "30" }
      assert_raises(TypeError) { conn.export(["customers"]) }
      assert_raises(TypeError) { conn.import_csv("customers", StringIO.new("a\n"), max_errors: "3") }
    end
    assert_raises(TypeError) { Fastepost::Core.import_options_set_max_errors(Fastepost::Core::ImportOptions.new, "3") }
    assert_raises(TypeError) { Fastepost::Core.export_options_set_limit(nil, 3) }
    assert_raises(ArgumentError) { Fastepost.connect(@dsn, no_such_option: 1) }
  end
end
