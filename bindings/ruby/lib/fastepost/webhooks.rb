# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The webhook and event-log methods of Connection (docs/webhooks.md, docs/odoo.md,
# docs/hubspot.md, docs/events.md). What they take and return lives by concern: hubspot.rb (the
# signature verifier), odoo_webhook.rb (Odoo's key check), webhook_entry.rb (every CRM through
# one entry), events.rb (the results and the event log's rows).
require "fastepost/events"
require "fastepost/hubspot"
require "fastepost/odoo_webhook"
require "fastepost/webhook_entry"

module Fastepost
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
