# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# A Rack app that receives the webhooks of every CRM and hands them to libfastepost:
#
#   POST /api/v1/integrations/:source   odoo, hubspot, pipedrive, monday, salesforce or zoho,
#                                       verified as the webhook configuration says (the JSON of
#                                       `fastepost webhook process --config`), answered with the
#                                       library's status, content type and body (Salesforce's
#                                       SOAP acknowledgement, monday.com's challenge echo ...)
#
# The configuration comes from FASTEPOST_WEBHOOK_CONFIG (a JSON file) or
# FASTEPOST_WEBHOOK_CONFIG_JSON (the JSON itself); a source without a section there is refused
# (401). Odoo and HubSpot without a section keep their 1.0 routes, configured by ODOO_API_KEY
# and HUBSPOT_CLIENT_SECRET, which answer a small JSON body of their own:
#
#   POST /api/v1/integrations/odoo      key in X-Odoo-Api-Key or ?api_key=, optional ?event=
#   POST /api/v1/integrations/hubspot   X-HubSpot-Signature-v3 + X-HubSpot-Request-Timestamp
#
# Every answer has the HTTP status the library chose (200, 202, 400, 401, 409, 413, 503 ...).
# Configuration comes from the environment (see README.md). Rack servers run
# requests on several threads; each request borrows a connection from a Fastepost::Pool
# (bounded: a request that finds no connection free within the pool's timeout is answered
# 503, PoolTimeout, and the sender delivers again), so a slow request never holds up another
# one's database work and the server never opens more than FASTEPOST_POOL connections.
require "json"
require "rack"
require "fastepost"

module FastepostExample
  class WebhookApp
    PREFIX = "/api/v1/integrations/"
    ODOO_PATH = "#{PREFIX}odoo"
    HUBSPOT_PATH = "#{PREFIX}hubspot"
    # Read at most this much of a body: one byte over the library's limit is enough for it to
    # answer 413, and a huge upload is never held in memory.
    MAX_BODY = 1024 * 1024

    # pool:            a Fastepost::Pool (or anything with #with { |conn| ... })
    # odoo_api_keys:   the keys Odoo may present (several while rotating; none: every Odoo
    #                  request is refused, 401); nil lets the library read ODOO_API_KEY
    # hubspot_secrets: the app's client secret(s), newest first (rotation)
    # public_url:      the scheme://host[:port] HubSpot signs with, when behind a proxy;
    #                  nil: the URL as this server received it
    # spool:           a Fastepost::Spool (or directory) where Odoo deliveries that cannot
    #                  reach PostgreSQL are kept and answered 202 (Odoo never retries); replay
    #                  them with `fastepost spool replay --dir ...`. nil: no spool
    # webhook_config: the configuration of every source (a Hash, JSON text, or a
    #                  Fastepost::WebhookConfig); nil: no source but the 1.0 Odoo and HubSpot
    #                  routes is accepted. It is parsed once, here, and shared by all threads
    # metrics_token:   GET /metrics (Prometheus, docs/metrics.md) answers only a scraper that
    #                  presents it as "Authorization: Bearer <token>"; nil: the route is off (404)
    def initialize(pool:, odoo_api_keys: nil, hubspot_secrets: [], public_url: nil, spool: nil, webhook_config: nil,
                   metrics_token: nil)
      @pool = pool
      @spool = spool.nil? || spool.is_a?(Fastepost::Spool) ? spool : Fastepost::Spool.new(spool)
      @odoo_api_keys = odoo_api_keys
      @hubspot_secrets = hubspot_secrets
      @public_url = public_url&.chomp("/")
      @config = if webhook_config.is_a?(Fastepost::WebhookConfig)
                  webhook_config
                else
                  Fastepost::WebhookConfig.new(webhook_config, spool: @spool)
                end
      @sources = Fastepost.webhook_sources
      @metrics_token = metrics_token.to_s.empty? ? nil : metrics_token.to_s
    end

    def self.from_env(env = ENV)
      new(pool: Fastepost::Pool.new(env.fetch("DATABASE_URL", ""),
                                    size: Integer(env.fetch("FASTEPOST_POOL", "4")),
                                    timeout: Float(env.fetch("FASTEPOST_POOL_TIMEOUT", "5"))),
          odoo_api_keys: list(env["ODOO_API_KEY"]),
          hubspot_secrets: list(env["HUBSPOT_CLIENT_SECRET"]),
          public_url: env["PUBLIC_URL"],
          spool: env.fetch("FASTEPOST_SPOOL_DIR", "tmp/spool"),
          webhook_config: webhook_config_from_env(env),
          metrics_token: env["FASTEPOST_METRICS_TOKEN"])
    end

    # The JSON of FASTEPOST_WEBHOOK_CONFIG_JSON, else of the file FASTEPOST_WEBHOOK_CONFIG; nil.
    def self.webhook_config_from_env(env)
      return env["FASTEPOST_WEBHOOK_CONFIG_JSON"] if env["FASTEPOST_WEBHOOK_CONFIG_JSON"].to_s != ""
      return File.binread(env["FASTEPOST_WEBHOOK_CONFIG"]) if env["FASTEPOST_WEBHOOK_CONFIG"].to_s != ""

      nil
    end

    # "a, b" -> ["a", "b"]: comma-separated while a key or secret is rotated; unset -> [].
    def self.list(value) = value.to_s.split(",").map(&:strip).reject(&:empty?)

    def call(env)
      req = Rack::Request.new(env)
      return metrics(req) if req.path_info == "/metrics"

      source = req.path_info.delete_prefix(PREFIX) if req.path_info.start_with?(PREFIX)
      return json(404, error: "not found") unless @sources.include?(source)
      return json(405, error: "use POST") unless req.post?

      # The 1.0 routes while the configuration has no section for them.
      return send(source.to_sym, req) if %w[odoo hubspot].include?(source) && !@config.source?(source)

      generic(source, req)
    rescue Fastepost::Error => e
      # The library refused: answer its status and say why (messages never contain secrets
      # or payloads). A result, when there is one, says which event was logged. PoolTimeout
      # (no connection free in time) is a Fastepost::Error too: 503.
      json(e.http_status || 500, **e.result.to_h, error: e.class.name.split("::").last, message: e.message)
    end

    private

    # The CRM figures for Prometheus, for a scraper with the bearer token.
    def metrics(req)
      return json(404, error: "not found") unless @metrics_token
      unless Rack::Utils.secure_compare(req.get_header("HTTP_AUTHORIZATION").to_s, "Bearer #{@metrics_token}")
        return json(401, error: "unauthorized")
      end

      text = @pool.with { |conn| conn.crm_metrics(sources: @config, spool: @spool&.dir) }
      [200, { "content-type" => "text/plain; version=0.0.4; charset=utf-8" }, [text]]
    end

    # Any source: the library verifies, processes and says what to answer; the answer goes out
    # as it is (status, content type, body).
    def generic(source, req)
      options = { headers: headers(req), config: @config, method: req.request_method,
                  url: @public_url ? @public_url + req.fullpath : req.url }
      data = body(req)
      response = begin
        @pool.with { |conn| conn.webhook_process(source, data, **options) }
      rescue Fastepost::ConnectionError, Fastepost::PoolTimeout
        # No connection: a verified request goes to the configuration's spool (202); without
        # one the answer is 503 (the rescue in #call) and the CRM delivers again.
        raise unless @config.spool

        Fastepost.webhook_process(source, data, conn: nil, **options)
      end
      response.to_rack
    end

    # The request's headers by their HTTP names (Rack keeps them as HTTP_X_ODOO_API_KEY ...).
    def headers(req)
      req.each_header.with_object({}) do |(key, value), h|
        name = key.start_with?("HTTP_") ? key.delete_prefix("HTTP_") : (%w[CONTENT_TYPE CONTENT_LENGTH].include?(key) && key)
        h[name.split("_").map(&:capitalize).join("-")] = value if name && value.is_a?(String)
      end
    end

    # The library checks the key itself, before it writes or spools anything: a missing
    # (nil), empty or wrong one is 401 AuthError, and with no key configured every request is
    # 401 NoKeyError. The header wins when present, even empty.
    def odoo(req)
      key = req.get_header("HTTP_X_ODOO_API_KEY") || req.GET["api_key"]
      options = { api_key: key, expected_keys: @odoo_api_keys, event: req.GET["event"], content_type: req.content_type }
      options[:spool] = @spool if @spool
      data = body(req)
      result = begin
        @pool.with { |conn| conn.odoo_process(data, **options) }
      rescue Fastepost::ConnectionError, Fastepost::PoolTimeout => e
        # Connecting failed or no connection was free in time (no result: nothing was
        # processed): with a spool, the library keeps the delivery without a connection and it
        # is answered 202. Odoo never redelivers, so a 503 here would lose it.
        raise unless @spool && e.result.nil?

        Fastepost.odoo_process(data, conn: nil, **options)
      end
      json(result.http_status, **result.to_h)
    end

    def hubspot(req)
      uri = @public_url ? @public_url + req.fullpath : req.url
      batch = @pool.with do |conn|
        conn.hubspot_process(body(req), secrets: @hubspot_secrets, method: req.request_method, uri: uri,
                                        timestamp: req.get_header("HTTP_X_HUBSPOT_REQUEST_TIMESTAMP"),
                                        signature: req.get_header("HTTP_X_HUBSPOT_SIGNATURE_V3"))
      end
      json(batch.http_status, **batch.to_h)
    end

    def body(req)
      (req.body&.read(MAX_BODY + 1) || +"").b
    end

    def json(status, **fields)
      [status, { "content-type" => "application/json" }, [JSON.generate(fields.merge(http_status: status))]]
    end
  end
end
