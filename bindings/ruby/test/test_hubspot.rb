# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# HubSpot signature verification: known vectors, every refusal, secrets rotation, String bodies
# in any encoding, GC of verifiers.
require_relative "support"

class HubSpotTest < Minitest::Test
  SDK_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
  SDK_BODY = "{'example_field':'example_value'}"
  SDK_URL = "https://www.example.com/webhook_uri"
  SDK_V3 = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
  SDK_V2 = "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
  NOW = 15_000_000
  OK = { method: "POST", uri: SDK_URL, body: SDK_BODY, signature: SDK_V3, timestamp: NOW.to_s }.freeze

  def verifier(**kw) = Fastepost::HubSpotVerifier.new(secrets: [SDK_SECRET], now_ms: NOW, **kw)

  def test_known_vectors
    assert_equal SDK_V3, Fastepost.hubspot_sign(secret: SDK_SECRET, method: "POST", uri: SDK_URL, timestamp: NOW, body: SDK_BODY)
    assert_equal SDK_V2, Fastepost.hubspot_sign(secret: SDK_SECRET, method: "POST", uri: SDK_URL, body: SDK_BODY, version: :v2)
    assert_equal Encoding::UTF_8, Fastepost.hubspot_sign(secret: "s", body: "x", version: :v1).encoding
    assert_equal 0, verifier.verify(**OK)
    assert_equal 0, Fastepost.hubspot_verify(secret: SDK_SECRET, method: "POST", uri: SDK_URL, body: SDK_BODY,
                                             signature: SDK_V2, version: :v2)
  end

  def test_refusals
    v = verifier
    { { signature: "#{SDK_V3[0..-3]}A=" } => /mismatch/, { body: "#{SDK_BODY} " } => /mismatch/,
      { signature: nil } => /missing/, { timestamp: nil } => /missing/, { timestamp: "1.5e7" } => /whole number/,
      { timestamp: (NOW - 300_001).to_s } => /stale/, { timestamp: (NOW + 300_001).to_s } => /future/ }.each do |change, re|
      e = assert_raises(Fastepost::AuthError, change.inspect) { v.verify(**OK, **change) }
      assert_match re, e.message
      refute_includes e.message, SDK_SECRET
    end
    assert_raises(Fastepost::AuthError) { v.verify(**OK, signature: SDK_V2, version: "v2") }
    assert_raises(Fastepost::InvalidError) { v.verify(**OK, version: "v9") }
    assert_raises(Fastepost::TooBigError) { verifier(max_body: 8).verify(**OK) }
    assert_raises(TypeError) { v.verify(**OK, body: 12) }
    v.clear_secrets
    assert_raises(Fastepost::NoKeyError) { v.verify(**OK) }
    assert_raises(ArgumentError) { verifier(versions: [:v4]) }
    assert_raises(Fastepost::InvalidError) { verifier(tolerance_ms: 0) }
  end

  def test_rotation_and_tolerance
    v = Fastepost::HubSpotVerifier.new(secrets: ["old-secret", SDK_SECRET], now_ms: NOW + 400_000,
                                       tolerance_ms: 500_000, versions: %i[v2 v3])
    assert_equal 1, v.verify(**OK)
    6.times { |i| v.add_secret("s#{i}") }
    assert_raises(Fastepost::TooBigError) { v.add_secret("one too many") }
  end

  def test_bodies_in_any_encoding
    body = "{\"name\":\"Zoë 山田\"}"
    sig = Fastepost.hubspot_sign(secret: "sëcret", method: "POST", uri: SDK_URL, timestamp: NOW, body: body)
    v = Fastepost::HubSpotVerifier.new(secrets: "sëcret", now_ms: NOW)
    assert_equal 0, v.verify(method: "POST", uri: SDK_URL, body: body.b, signature: sig, timestamp: NOW)
    raw = "\x00\xff\xfe binary".b
    sig = Fastepost.hubspot_sign(secret: "s", method: "POST", uri: SDK_URL, timestamp: NOW, body: raw)
    assert_equal 0, Fastepost::HubSpotVerifier.new(secrets: "s", now_ms: NOW)
                                              .verify(method: "POST", uri: SDK_URL, body: raw, signature: sig, timestamp: NOW)
  end

  def test_decode_uri
    assert_equal "https://x/a:b%20c?d=/", Fastepost.hubspot_decode_uri("https://x/a%3Ab%20c?d=%2F")
  end

  def test_gc
    verifiers = Array.new(5) { verifier }
    [3, 0, 4, 1, 2].each do |i|
      verifiers[i] = nil
      GC.start
    end
    assert_equal 0, verifier.verify(**OK)
  end
end
