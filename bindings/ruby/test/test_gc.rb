# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Objects freed in every order under GC.start: nothing crashes, handles are released.
require_relative "support"

class TestGarbageCollection < DbTest
  # Drop references from a separate frame so that no stale stack slot keeps them alive.
  def collect
    GC.start(full_mark: true, immediate_sweep: true)
    GC.start(full_mark: true, immediate_sweep: true)
  end

  def make_garbage
    yield
    nil
  end

  def test_dropped_connection_disconnects
    make_garbage { Fastepost.connect(@dsn) }
    assert_equal 0, backends(expect: 0)
  end

  def test_closed_then_collected
    make_garbage { Fastepost.connect(@dsn).close }
    collect
    assert_equal 0, backends(expect: 0)
  end

  def test_results_outlive_the_connection
    version, database = make_garbage_returning do
      conn = Fastepost.connect(@dsn)
      conn.schema_install
      [conn.schema_version, conn.database]
    end
    collect
    assert version.up_to_date?
    assert_equal @dbname, database
    assert_equal version.latest, version.to_h[:current]
  end

  def test_results_freed_first
    conn = Fastepost.connect(@dsn)
    make_garbage { conn.schema_version }
    collect
    assert conn.ping
    conn.close
  end

  def test_exception_outlives_everything
    err = make_garbage_returning do
      conn = Fastepost.connect(@dsn)
      conn.close
      begin
        conn.ping
      rescue Fastepost::ConnectionError => e
        e
      end
    end
    collect
    assert_match(/closed/, err.message)
  end

  def test_core_handles_and_wrappers_in_any_order
    make_garbage do
      conns = Array.new(6) { |i| i.even? ? Fastepost.connect(@dsn) : Fastepost::Core.conn_open(@dsn) }
      conns[1].then { |c| Fastepost::Core.conn_close(c) }
      conns[4].close
      [3, 0, 5, 1, 4, 2].each do |i|
        conns[i] = nil
        collect
      end
    end
    assert_equal 0, backends(expect: 0)
  end

  def test_failed_constructor_leaves_nothing
    50.times { assert_raises(Fastepost::InvalidError) { Fastepost.connect("=broken") } }
    collect
  end

  def test_compaction
    skip "GC.compact unsupported" unless GC.respond_to?(:compact)
    conn = Fastepost.connect(@dsn)
    GC.compact
    assert conn.ping
    conn.close
  end

  private

  def make_garbage_returning
    yield
  end
end
