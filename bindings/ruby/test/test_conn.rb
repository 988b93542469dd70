# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Connection and schema through the idiomatic layer.
require_relative "support"

class TestVersions < Minitest::Test
  def test_versions_agree
    assert_match(/\A\d+\.\d+\.\d+\z/, Fastepost::VERSION)
    assert_equal Fastepost::VERSION, Fastepost.version
    assert_equal Encoding::UTF_8, Fastepost::VERSION.encoding
    assert_predicate Fastepost::VERSION, :frozen?
    core = Fastepost::Core
    assert_equal [core::VERSION_MAJOR, core::VERSION_MINOR, core::VERSION_PATCH], Fastepost.version_info
  end

  def test_schema_sql
    sql = Fastepost.schema_sql
    assert_equal Encoding::UTF_8, sql.encoding
    assert_includes sql, "CREATE TABLE IF NOT EXISTS customers"
  end
end

class TestConnection < DbTest
  def test_open_with_a_block_closes
    seen = nil
    result = Fastepost::Connection.open(@dsn) do |conn|
      seen = conn
      refute conn.closed?
      assert_equal 1, backends
      :value
    end
    assert_equal :value, result
    assert seen.closed?
    assert_equal 0, backends(expect: 0)
    seen.close # twice is fine
  end

  def test_open_with_a_block_closes_on_exception
    seen = nil
    assert_raises(KeyError) do
      Fastepost::Connection.open(@dsn) do |conn|
        seen = conn
        raise KeyError, "boom"
      end
    end
    assert seen.closed?
  end

  def test_open_without_a_block
    conn = Fastepost::Connection.open(@dsn)
    assert_instance_of Fastepost::Connection, conn
    assert conn.ping
    conn.close
  end

  def test_attributes
    conn = Fastepost.connect(@dsn)
    assert_equal @dbname, conn.database
    assert_equal Encoding::UTF_8, conn.database.encoding
    assert_operator conn.server_version, :>=, 120_000
    assert_equal sql("SHOW server_version_num").to_i, conn.server_version
    assert_includes conn.inspect, @dbname
    conn.close
    # A closed connection raises rather than answering 0 or "" (issue 14, item 7).
    assert conn.closed?
    assert_raises(Fastepost::ConnectionError) { conn.database }
    assert_raises(Fastepost::ConnectionError) { conn.server_version }
    assert_raises(Fastepost::ConnectionError) { conn.ping }
    assert_raises(Fastepost::ConnectionError) { conn.schema_version }
    assert_includes conn.inspect, "closed"
  end

  def test_reset_after_close
    conn = Fastepost::Connection.new(@dsn, statement_timeout: 1.5)
    conn.close
    assert_same conn, conn.reset
    assert conn.ping
    assert_equal 1.5, conn.statement_timeout
    conn.close
  end

  def test_statement_timeout_keyword
    Fastepost::Connection.open(@dsn, statement_timeout: 2) do |conn|
      assert_equal 2, conn.statement_timeout
      conn.statement_timeout = 0.25
      assert_equal 0.25, conn.statement_timeout
    end
  end

  def test_timeout_defaults
    Fastepost::Connection.open(@dsn) do |conn|
      assert_equal 30, conn.statement_timeout
      assert_equal 5, conn.lock_timeout
      conn.lock_timeout = 0.3
      assert_equal 0.3, conn.lock_timeout
      conn.lock_timeout = 0 # 0 (or nil) restores the default: there is no "off"
      assert_equal 5, conn.lock_timeout
      conn.statement_timeout = 0.0005 # rounded up to the server's milliseconds
      assert_equal 0.001, conn.statement_timeout
      conn.statement_timeout = nil
      assert_equal 30, conn.statement_timeout
      assert_raises(Fastepost::InvalidError) { conn.lock_timeout = -1 }
      assert_raises(TypeError) { conn.lock_timeout = "5" }
    end
  end

  # Puma/Unicorn preload: a connection opened before fork reconnects on its first use in the
  # child, and the parent's session is neither used nor terminated.
  def test_fork_child_reconnects_and_parent_session_survives
    backend = "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity " \
              "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    Fastepost::Connection.open(@dsn) do |conn|
      conn.schema_install
      parent_backend = sql(backend)
      pid = fork do
        ok = conn.ping && conn.schema_version.up_to_date?
        conn.close
        exit!(ok ? 0 : 1)
      rescue Exception # rubocop:disable Lint/RescueException
        exit!(2)
      end
      _, status = Process.wait2(pid)
      assert_equal 0, status.exitstatus
      assert conn.ping
      assert_includes sql(backend).split, parent_backend
    end
  end

  def test_schema_install_and_version
    Fastepost::Connection.open(@dsn) do |conn|
      before = conn.schema_version
      assert_instance_of Fastepost::SchemaVersion, before
      assert_equal 0, before.current
      refute before.up_to_date?
      applied = conn.schema_install
      assert_kind_of Integer, applied
      assert_equal before.latest, applied
      assert_equal 0, conn.schema_install
      after = conn.schema_version
      assert after.up_to_date?
      assert_equal({ current: before.latest, latest: before.latest }, after.to_h)
    end
    assert_equal "t", sql("SELECT to_regclass('customers') IS NOT NULL")
  end

  def test_core_conn_open_returns_an_owned_handle
    conn = Fastepost::Core.conn_open(@dsn)
    assert_instance_of Fastepost::Core::Conn, conn
    assert_equal [0, Fastepost::Core.schema_version(conn)[1]], Fastepost::Core.schema_version(conn)
    refute_respond_to Fastepost::Core, :conn_free
    refute_respond_to Fastepost::Core, :free
  end
end
