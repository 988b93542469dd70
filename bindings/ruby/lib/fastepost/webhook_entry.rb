# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "json"
require "time"

# Every CRM through one entry (docs/webhooks.md): WebhookConfig, what a request did
# (WebhookResponse) and Fastepost.webhook_process for a host that may have no connection
# (Connection#webhook_process is in webhooks.rb).
module Fastepost
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
end
