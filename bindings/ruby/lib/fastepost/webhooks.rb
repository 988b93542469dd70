# frozen_string_literal: true

# Webhooks and the event log: HubSpot signatures (docs/hubspot.md), Odoo deliveries
# (docs/odoo.md), the webhook methods of Connection and their results.
module Fastepost
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

  # What Connection#prune_events did: rows deleted, batches committed, and the UTC cutoff
  # ("YYYY-MM-DD HH:MM:SS.ffffff") older rows were deleted before.
  PruneReport = Struct.new(:deleted, :batches, :cutoff, keyword_init: true)

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

  class Connection
    # The webhook and event-log methods of Connection (included there: they use its
    # #synchronize and @conn).
    module WebhookMethods
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

      # Delete the events older than older_than_days (7 or more) in short batches of batch_size
      # rows (0: 1000); status: "success" or "all". A PruneReport. InvalidError for fewer than
      # 7 days (nothing deleted); when a batch fails, the exception's #report has what was.
      def prune_events(older_than_days:, status: "success", batch_size: 0)
        PruneReport.new(**synchronize do
          Core.events_prune(@conn, Integer(older_than_days), status&.to_s, Integer(batch_size))
        rescue Error => e
          e.instance_variable_set(:@report, PruneReport.new(**e.report)) if e.report.is_a?(Hash)
          raise
        end)
      end

      private

      # Run the call; an exception's raw #result (Hash/Array) becomes convert's object.
      def with_result(convert)
        synchronize { yield }
      rescue Error => e
        e.instance_variable_set(:@result, convert.call(e.result)) if e.result.is_a?(Hash) || e.result.is_a?(Array)
        raise
      end
    end
  end
end
