# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# HubSpot webhook signatures (docs/hubspot.md): HubSpotVerifier and the one-off helpers.
# Connection#hubspot_process (webhooks.rb) verifies and ingests in one call.
module Fastepost
  HUBSPOT_VERSIONS = { "v1" => Core::HUBSPOT_VERSION_V1, "v2" => Core::HUBSPOT_VERSION_V2,
                       "v3" => Core::HUBSPOT_VERSION_V3 }.freeze

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
      if tolerance_ms
        raise InvalidError, "the HubSpot tolerance must be 1 ms or more" if Integer(tolerance_ms) < 1

        Core.hubspot_verifier_set_tolerance(@v, Integer(tolerance_ms) * 1000) # the library takes us
      end
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
      raise InvalidError, "now_ms must not be negative" if !ms.nil? && Integer(ms).negative?

      # The library takes microseconds; 0 is its "system clock".
      @lock.synchronize { Core.hubspot_verifier_set_now(@v, ms.nil? ? 0 : [Integer(ms) * 1000, 1].max) }
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
end
