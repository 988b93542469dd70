# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Odoo webhook deliveries (docs/odoo.md): the API key check and Fastepost.odoo_process for a
# host that may have no connection (the Connection methods are in webhooks.rb).
module Fastepost
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
end
