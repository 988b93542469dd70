# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Api
  module V1
    module Integrations
      # POST /api/v1/integrations/odoo[?api_key=...][&event=create|write|unlink|archive]
      #
      # The 1.0 route, used while the webhook configuration (FastepostDB.webhook_config) has no
      # "odoo" section; with one, the request goes through the generic entry
      # (WebhooksController) and its configuration instead.
      #
      # Odoo's "Send Webhook Notification" cannot set headers, so the key may come in the URL;
      # X-Odoo-Api-Key wins when present, even empty. The library checks it before it writes or
      # spools anything: missing, empty or wrong is 401 AuthError; the accepted keys are
      # ODOO_API_KEY (comma-separated while rotating; none configured: every request is 401
      # NoKeyError). The URL's key never reaches the log (filter_parameters, see the
      # initializer). Answers the library's status: 200 (also for a
      # duplicate delivery), 400 malformed, 401, 409 conflicting record, 413 too big, 503 retry.
      # When PostgreSQL cannot be reached, the delivery goes to the spool (FASTEPOST_SPOOL_DIR,
      # default tmp/spool) and is answered 202; `fastepost spool replay` ingests it later.
      class OdooController < ActionController::API
        include FastepostResponses
        include FastepostWebhook

        def create
          # With an "odoo" section in the webhook configuration, this route is the generic one.
          return answer_webhook("odoo") if FastepostDB.webhook_config.source?("odoo")

          options = { api_key: request.headers["X-Odoo-Api-Key"] || request.query_parameters["api_key"],
                      expected_keys: FastepostDB.odoo_api_keys,
                      event: request.query_parameters["event"].presence,
                      content_type: request.content_type, spool: FastepostDB.spool }
          body = raw_body
          result = begin
            with_fastepost { |conn| Fastepost.odoo_process(body, conn: conn, **options) }
          rescue Fastepost::ConnectionError, Fastepost::PoolTimeout => e
            # No connection could be opened, or none was free in time (no result: nothing was
            # processed): without one the library spools the delivery, after checking the key.
            # Odoo never redelivers, so a 503 here would lose it.
            raise unless e.result.nil?

            Fastepost.odoo_process(body, conn: nil, **options)
          end
          render json: result.to_h.merge(http_status: result.http_status), status: result.http_status
        end
      end
    end
  end
end
