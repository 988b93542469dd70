# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Api
  module V1
    module Integrations
      # The 1.0 route, used while the webhook configuration has no "hubspot" section (with one:
      # the generic entry, as WebhooksController).
      # POST /api/v1/integrations/hubspot: a HubSpot webhook batch, signed with v3
      # (X-HubSpot-Signature-v3 over method, URL, body and X-HubSpot-Request-Timestamp, with
      # the app's client secret, HUBSPOT_CLIENT_SECRET). 200 once the batch is committed (each
      # event's outcome is in the body); 401 for a bad or stale signature; 503 lets HubSpot retry.
      class HubspotController < ActionController::API
        include FastepostResponses
        include FastepostWebhook

        def create
          # With a "hubspot" section in the webhook configuration, this route is the generic one.
          return answer_webhook("hubspot") if FastepostDB.webhook_config.source?("hubspot")

          body = raw_body
          batch = with_fastepost do |conn|
            conn.hubspot_process(body, secrets: FastepostDB.hubspot_secrets,
                                       method: request.request_method,
                                       uri: signed_url,
                                       timestamp: request.headers["X-HubSpot-Request-Timestamp"],
                                       signature: request.headers["X-HubSpot-Signature-v3"])
          end
          render json: batch.to_h.merge(http_status: batch.http_status), status: batch.http_status
        end

        private

        # HubSpot signs the URL it called (FastepostWebhook#public_url).
        def signed_url = public_url
      end
    end
  end
end
