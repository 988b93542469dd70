# frozen_string_literal: true

# A Rack app that receives the Odoo and HubSpot webhooks and hands them to libfastepost:
#
#   POST /api/v1/integrations/odoo      key in X-Odoo-Api-Key or ?api_key=, optional ?event=
#   POST /api/v1/integrations/hubspot   X-HubSpot-Signature-v3 + X-HubSpot-Request-Timestamp
#
# It answers with the HTTP status the library chose (200, 400, 401, 409, 413, 503 ...) and a
# small JSON body. Configuration comes from the environment (see README.md). Rack servers run
# requests on several threads; each request borrows a connection from a Fastepost::Pool
# (bounded: a request that finds no connection free within the pool's timeout is answered
# 503, PoolTimeout, and the sender delivers again), so a slow request never holds up another
# one's database work and the server never opens more than FASTEPOST_POOL connections.
require "json"
require "rack"
require "fastepost"

module FastepostExample
  class WebhookApp
    ODOO_PATH = "/api/v1/integrations/odoo"
    HUBSPOT_PATH = "/api/v1/integrations/hubspot"
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
    def initialize(pool:, odoo_api_keys: nil, hubspot_secrets: [], public_url: nil, spool: nil)
      @pool = pool
      @spool = spool.nil? || spool.is_a?(Fastepost::Spool) ? spool : Fastepost::Spool.new(spool)
      @odoo_api_keys = odoo_api_keys
      @hubspot_secrets = hubspot_secrets
      @public_url = public_url&.chomp("/")
    end

    def self.from_env(env = ENV)
      new(pool: Fastepost::Pool.new(env.fetch("DATABASE_URL", ""),
                                    size: Integer(env.fetch("FASTEPOST_POOL", "4")),
                                    timeout: Float(env.fetch("FASTEPOST_POOL_TIMEOUT", "5"))),
          odoo_api_keys: list(env["ODOO_API_KEY"]),
          hubspot_secrets: list(env["HUBSPOT_CLIENT_SECRET"]),
          public_url: env["PUBLIC_URL"],
          spool: env.fetch("FASTEPOST_SPOOL_DIR", "tmp/spool"))
    end

    # "a, b" -> ["a", "b"]: comma-separated while a key or secret is rotated; unset -> [].
    def self.list(value) = value.to_s.split(",").map(&:strip).reject(&:empty?)

    def call(env)
      req = Rack::Request.new(env)
      handler = { ODOO_PATH => :odoo, HUBSPOT_PATH => :hubspot }[req.path_info]
      return json(404, error: "not found") unless handler
      return json(405, error: "use POST") unless req.post?

      send(handler, req)
    rescue Fastepost::Error => e
      # The library refused: answer its status and say why (messages never contain secrets
      # or payloads). A result, when there is one, says which event was logged. PoolTimeout
      # (no connection free in time) is a Fastepost::Error too: 503.
      json(e.http_status || 500, **e.result.to_h, error: e.class.name.split("::").last, message: e.message)
    end

    private

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
