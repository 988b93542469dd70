# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Api
  module V1
    module Integrations
      # POST /api/v1/integrations/:source, for every CRM libfastepost knows (odoo, hubspot,
      # pipedrive, monday, salesforce, zoho): the library answers monday.com's challenge,
      # verifies the request against the webhook configuration (FastepostDB.webhook_config:
      # FASTEPOST_WEBHOOK_CONFIG, a JSON file, or FASTEPOST_WEBHOOK_CONFIG_JSON; a source without
      # a section is refused, 401), processes its events and says what to answer, which goes
      # out as it is: status, content type and body (Salesforce's SOAP acknowledgement, the
      # JSON result ...). An unreachable database spools a verified request (202).
      class WebhooksController < ActionController::API
        include FastepostResponses
        include FastepostWebhook

        def create
          answer_webhook(params.fetch(:source))
        end
      end
    end
  end
end
