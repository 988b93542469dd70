# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "json"
require "time"

# Webhooks and the event log: HubSpot signatures (docs/hubspot.md), Odoo deliveries
# (docs/odoo.md), every CRM through one entry (docs/webhooks.md), the webhook methods of
# Connection and their results.
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
  # A limit for the library: 0 (or nil) means its default; a negative one is refused here.
  def self.limit_arg(limit)
    limit = Integer(limit || 0)
    raise InvalidError, "the limit must not be negative, not #{limit}" if limit.negative?

    limit
  end
  private_class_method :limit_arg

  def self.presented_odoo_key(api_key)
    return nil if api_key.nil?
    key = String.try_convert(api_key) or raise TypeError, "api_key must be a String, not #{api_key.class}"
    key.include?("\0") ? "" : key
  end
  private_class_method :presented_odoo_key

  # What processing one delivery did, with the keys and types of the CLI's --json
  # (docs/events.md): code (0 or the error code), status ("ok" or the error name,
  # "FASTEPOST_EPARSE" ...), http_status (answer this), outcome ("created", "updated",
  # "unchanged", "stale", "ignored", "conflict", "duplicate", "spooled"; nil when it failed
  # before a decision), the ids written (nil for none), warnings and error (the message, or
  # nil). An event of a batch also has index, event_type and object_id.
  EventResult = Struct.new(:code, :status, :http_status, :outcome, :event_id, :customer_id, :remark_id,
                           :task_id, :warnings, :error, :index, :event_type, :object_id, keyword_init: true) do
    def ok? = code.zero?

    # The event's type (an alias of event_type).
    def type = event_type

    def to_h
      h = super
      index.nil? ? h.except(:index, :event_type, :object_id) : h
    end
  end

  # What processing a request with several events did (a HubSpot batch, an Odoo batch):
  # status/code/http_status/error of the whole batch, count events of which failed failed, and
  # events (an EventResult each, with index, event_type and object_id). Enumerable over the
  # events; batch[i] is event i.
  EventBatch = Struct.new(:code, :status, :http_status, :count, :failed, :error, :events, keyword_init: true) do
    include DeepHash
    include Enumerable
    def ok? = code.zero?
    def each(&) = events.each(&)
    def size = events.size
    alias_method :length, :size
    def [](i) = i.is_a?(Integer) ? events[i] : super

    def self.from(h) = new(**h, events: h[:events].map { |e| EventResult.new(**e) })
  end

  # The former name of EventBatch.
  HubSpotBatch = EventBatch

  # One integration_events row, with the keys of `fastepost events list --json`: times in
  # microseconds since the epoch (UTC; nil for none), ids and texts nil for none.
  Event = Struct.new(:id, :source, :event_type, :status, :outcome, :external_id, :customer_id, :attempts,
                     :error, :created_at_us, :processed_at_us, :next_attempt_at_us, keyword_init: true)

  # What Connection#events_retry did (the keys of `fastepost events retry --json`).
  RetryReport = Struct.new(:status, :attempted, :succeeded, :failed, :dead, keyword_init: true)

  # What Connection#prune_events did (the keys of `fastepost events prune --json`): rows
  # deleted, batches committed, cutoff_us (older rows were deleted; microseconds since the
  # epoch, UTC), and the older_than_days and event_status asked for.
  PruneReport = Struct.new(:status, :deleted, :batches, :cutoff_us, :older_than_days, :event_status,
                           keyword_init: true)

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

  # ---- Every CRM through one entry (docs/webhooks.md) ----------------------------------------

  # The sources Connection#webhook_process accepts, in the library's order:
  # ["odoo", "hubspot", "pipedrive", "monday", "salesforce", "zoho"].
  def self.webhook_sources = Core.webhook_sources

  # The configuration of every CRM source a host accepts webhooks from (keys, secrets,
  # organisation ids, board columns), parsed once and reused by every request, from every thread
  # (read-only once made):
  #
  #   config = Fastepost::WebhookConfig.new("pipedrive" => { "basic_auth" => ["user:password"] })
  #   response = conn.webhook_process("pipedrive", request.raw_post, headers: headers, config: config)
  #
  # config: a Hash of source sections (serialised to JSON), JSON text, or nil for none (then
  # every source is refused, 401). The keys are those of the CLI's --config file; an unknown
  # source or key or a wrong type raises InvalidError naming it (never a secret's value).
  # spool: a Spool or a directory, for verified requests that meet an unreachable database
  # (answered 202). clock: a fixed processing clock (a Time, or Unix seconds), for tests.
  class WebhookConfig
    attr_reader :spool

    def self.from_file(path, **options) = new(File.binread(path), **options)

    def initialize(config = nil, spool: nil, clock: nil)
      json = case config
             when nil then nil
             when Hash then JSON.generate(config)
             when String then config
             else raise TypeError, "config must be a Hash or JSON text, not #{config.class}"
             end
      @spool = spool.nil? || spool.is_a?(Spool) ? spool : Spool.new(spool)
      now = clock.nil? ? 0 : WebhookConfig.clock_us(clock)
      @c = @spool ? @spool.send(:locked) { |s| Core::WebhookConfig.new(json, s, now) } : Core::WebhookConfig.new(json, nil, now)
    end

    # true when the configuration has a section for source.
    def source?(source) = Core.webhook_config_has_source(@c, source.to_s) != 0

    # The sources with a section, in the library's order.
    def sources = Fastepost.webhook_sources.select { |s| source?(s) }

    def inspect = "#<Fastepost::WebhookConfig sources=#{sources.inspect}>"

    # A fixed clock as microseconds since the epoch.
    def self.clock_us(clock)
      us = case clock
           when Time then clock.to_r * 1_000_000
           when Integer, Float, Rational then clock.to_r * 1_000_000
           else raise TypeError, "clock must be a Time or Unix seconds, not #{clock.class}"
           end
      raise InvalidError, "clock must be after 1970" unless us.positive?

      us.to_i
    end

    # The core configuration of config (a WebhookConfig or nil) for retry and replay.
    def self.core_of(config)
      return nil if config.nil?
      raise TypeError, "config must be a Fastepost::WebhookConfig or nil, not #{config.class}" unless config.is_a?(WebhookConfig)

      config.send(:c)
    end
    private_class_method :core_of

    private

    attr_reader :c
  end

  # One event of a webhook request: an EventResult's keys and external_id (the CRM's record,
  # "person:42").
  WebhookEvent = Struct.new(*EventResult.members, :external_id, keyword_init: true) do
    def ok? = code.zero?
    def type = event_type
  end

  # What to answer a CRM and what its request did (Connection#webhook_process): http_status,
  # content_type and body (a binary String) to send as they are; code (0 or the error code) and
  # status ("ok" or the error name); spooled (kept in the spool, 202), handshake (a challenge
  # answered, nothing processed); error (the message, or nil; never a secret); events, one
  # WebhookEvent per event the request carried. to_h has the keys of
  # `fastepost webhook process --json`.
  class WebhookResponse
    # An event's keys in `fastepost webhook process --json` (WebhookEvent has more).
    CLI_EVENT_KEYS = %i[index event_id outcome customer_id remark_id external_id error].freeze

    attr_reader :code, :status, :http_status, :content_type, :body, :error, :events

    def initialize(h)
      @code, @status, @http_status, @content_type, @body, @spooled, @handshake, @error =
        h.values_at(:code, :status, :http_status, :content_type, :body, :spooled, :handshake, :error)
      @events = h[:batch][:events].zip(h[:external_ids]).map { |e, x| WebhookEvent.new(**e, external_id: x) }
    end

    def ok? = http_status.between?(200, 299)
    def spooled? = @spooled
    def handshake? = @handshake

    # The body as UTF-8 text (invalid bytes replaced).
    def text = body.dup.force_encoding(Encoding::UTF_8).scrub

    # Raise the code's exception class (AuthError ...) when the request failed, with #result
    # this response; returns self otherwise.
    def raise_for_status!
      return self if code.zero?

      begin
        Core._raise_code(code, error || "", "")
      rescue Error => e
        e.instance_variable_set(:@result, self)
        raise
      end
    end

    # The Rack triple: [status, headers, [body]].
    def to_rack = [http_status, { "content-type" => content_type, "content-length" => body.bytesize.to_s }, [body]]

    def to_h
      utf8 = body.dup.force_encoding(Encoding::UTF_8)
      # Not UTF-8: nil, as the CLI's --json prints it.
      { status: status, http_status: http_status,
        response: { content_type: content_type, body: utf8.valid_encoding? ? utf8 : nil },
        events: events.map { |e| e.to_h.slice(*CLI_EVENT_KEYS) }, error: error }
    end

    def inspect = "#<Fastepost::WebhookResponse status=#{status} http_status=#{http_status} events=#{events.size}>"
  end

  # Connection#webhook_process for a host that may have no connection: with conn nil
  # (connecting failed) a verified request goes to the configuration's spool (202); a refused
  # one is answered 401 as ever. Without a spool that is InvalidError: answer the connection
  # failure itself (503).
  def self.webhook_process(source, body, conn: nil, headers: {}, config: nil, method: "POST", url: "", spool: nil,
                           clock: nil)
    raise TypeError, "source must be a String, not #{source.class}" unless source.is_a?(String) || source.is_a?(Symbol)

    if config.is_a?(WebhookConfig)
      raise InvalidError, "give spool: and clock: to the WebhookConfig itself" unless spool.nil? && clock.nil?
    else
      config = WebhookConfig.new(config, spool: spool, clock: clock)
    end
    raise InvalidError, "webhook_process without a connection needs a spool" if conn.nil? && config.spool.nil?

    args = [source.to_s, method&.to_s, url.to_s, webhook_headers(headers), body, config.send(:c)]
    call = lambda do |core_conn|
      config.spool ? config.spool.send(:locked) { Core.webhook_process(core_conn, *args) } : Core.webhook_process(core_conn, *args)
    end
    WebhookResponse.new(conn ? conn.send(:synchronize) { call.call(conn.send(:core)) } : call.call(nil))
  end

  # A flat [name, value, ...] Array from a Hash or an Array of pairs; nil values left out.
  def self.webhook_headers(headers)
    (headers || {}).each_with_object([]) do |(name, value), flat|
      next if value.nil?
      raise TypeError, "header names and values must be Strings" unless name.is_a?(String) && value.is_a?(String)

      flat << name << value
    end
  end
  private_class_method :webhook_headers

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
        convert = ->(h) { EventBatch.from(h) }
        convert.call(with_result(convert) do
          Core.odoo_process_batch(@conn, bodies, presented, keys, host_authenticated ? 1 : 0, event&.to_s, content_type,
                                  Integer(max_body || 0), Integer(max_depth || 0), barcode_fields&.to_s)
        end)
      end

      # Verify a HubSpot webhook request and ingest its batch (docs/hubspot.md). Pass secrets:
      # (the app's client secrets) or a ready verifier:. Header values may be nil when missing.
      # Returns an EventBatch (events that failed alone are in it with their own code). A
      # refused request raises AuthError, NoKeyError, ParseError, TooBigError ... with
      # #http_status and #result (the EventBatch, no events).
      def hubspot_process(body, secrets: [], method: "POST", uri: nil, timestamp: nil, signature: nil,
                          version: "v3", now_ms: nil, max_events: nil, verifier: nil)
        verifier ||= HubSpotVerifier.new(secrets: Array(secrets), versions: version && [version], now_ms: now_ms)
        h = with_result(->(b) { EventBatch.from(b) }) do
          verifier.send(:locked) do |v|
            Core.hubspot_process(@conn, v, version&.to_s, method, uri, timestamp&.to_s, signature, body,
                                 Integer(max_events || 0))
          end
        end
        EventBatch.from(h)
      end

      # Process one webhook request from any CRM ("odoo", "hubspot", "pipedrive", "monday",
      # "salesforce", "zoho"; Fastepost.webhook_sources) and return the WebhookResponse to send:
      # a monday.com challenge is answered, the request is verified (constant time; no section
      # for the source: 401), parsed into its events and applied in one transaction. Never
      # raises for what the request did: a refused (401), malformed (400) or unprocessable (503)
      # request is a response too (raise_for_status! turns it into an exception).
      #
      #   body:     the raw body (request.raw_post)
      #   headers:  the request's headers, a Hash or pairs (names compare case-insensitively)
      #   config:   a WebhookConfig (build it once), or a Hash / JSON text parsed for this call;
      #             nil refuses every source
      #   method:   the HTTP method as received
      #   url:      the full public URL the request was sent to (monday.com's JWT aud, HubSpot's
      #             signature)
      #   spool:, clock:  with a Hash config: see WebhookConfig
      # Raises TypeError / InvalidError for the caller's mistakes only (a header that is not a
      # String or holds a NUL byte, a config that is not JSON or has an unknown key).
      def webhook_process(source, body, headers: {}, config: nil, method: "POST", url: "", spool: nil, clock: nil)
        Fastepost.webhook_process(source, body, conn: self, headers: headers, config: config, method: method, url: url,
                                                spool: spool, clock: clock)
      end

      # The newest integration events (Event), optionally only of one source ("odoo",
      # "hubspot") or status ("pending", "success", "error", "dead"); limit 0 or nil for the
      # library's default (100).
      def events(source: nil, status: nil, limit: 50)
        limit = Fastepost.send(:limit_arg, limit)
        synchronize { Core.events_list(@conn, source&.to_s, status&.to_s, limit) }.map { |h| Event.new(**h) }
      end

      # Process again the events that failed transiently and are due (at most limit; 0 or nil
      # for the library's default, 100); a RetryReport. config: the WebhookConfig the
      # deliveries came in with, so that each payload is read with its source's section (Odoo's
      # barcode fields, monday's board columns); nil for none.
      def events_retry(limit: 100, config: nil)
        limit = Fastepost.send(:limit_arg, limit)
        c = WebhookConfig.send(:core_of, config)
        RetryReport.new(**synchronize { c ? Core.webhook_events_retry(@conn, limit, c) : Core.events_retry(@conn, limit) })
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
