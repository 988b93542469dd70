# frozen_string_literal: true

module Api
  module V1
    module Integrations
      # POST /api/v1/integrations/odoo[?api_key=...][&event=create|write|unlink|archive]
      #
      # Odoo's "Send Webhook Notification" cannot set headers, so the key may come in the URL;
      # X-Odoo-Api-Key wins when present. The expected key is ODOO_API_KEY (no key configured:
      # every request is refused with 401). Answers the library's status: 200 (also for a
      # duplicate delivery), 400 malformed, 401, 409 conflicting record, 413 too big, 503 retry.
      class OdooController < ActionController::API
        include FastepostResponses

        def create
          result = fastepost.odoo_process(raw_body,
                                          api_key: request.headers["X-Odoo-Api-Key"] || request.query_parameters["api_key"],
                                          event: request.query_parameters["event"].presence,
                                          content_type: request.content_type)
          render json: result.to_h.merge(http_status: result.http_status), status: result.http_status
        end
      end
    end
  end
end
