# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# UTF-8 round trips: names in and out, messages, strings in other encodings.
require_relative "support"

class TestUtf8 < Minitest::Test
  include FastepostTest
  NAME = "fp_rb_tëst_日本語_✓"

  def setup
    drop_database(NAME)
    psql("CREATE DATABASE #{quote_ident(NAME)}")
  end

  def teardown
    drop_database(NAME)
  end

  def test_database_name_round_trip
    Fastepost::Connection.open(dsn_for(NAME)) do |conn|
      assert_equal Encoding::UTF_8, conn.database.encoding
      assert conn.database.valid_encoding?
      assert_equal NAME, conn.database
      assert_equal conn.schema_version.latest, conn.schema_install
    end
  end

  def test_latin1_input_is_transcoded
    name = "fp_rb_größe"
    drop_database(name)
    psql("CREATE DATABASE #{quote_ident(name)}")
    Fastepost::Connection.open(dsn_for(name).encode(Encoding::ISO_8859_1)) do |conn|
      assert_equal name, conn.database
    end
  ensure
    drop_database(name)
  end

  def test_message_keeps_utf8
    missing = "fp_nicht_da_ü_✗"
    e = assert_raises(Fastepost::ConnectionError) { Fastepost.connect(dsn_for(missing)) }
    assert_equal Encoding::UTF_8, e.message.encoding
    assert_includes e.message, missing
  end

  def test_invalid_utf8_is_refused_not_crashed
    dsn = (+"#{dsn_for('x')} dbname=").force_encoding(Encoding::BINARY) << "\xff\xfe".b
    e = assert_raises(Fastepost::Error) { Fastepost.connect(dsn) }
    assert e.message.valid_encoding?
  end

  def test_mutating_the_argument_afterwards_is_harmless
    dsn = +dsn_for(NAME)
    conn = Fastepost.connect(dsn)
    dsn.replace("x" * 10_000)
    assert_equal NAME, conn.database
    conn.close
  end
end
