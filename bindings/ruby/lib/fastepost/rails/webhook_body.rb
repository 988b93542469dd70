# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "active_support/concern"

module Fastepost
  class Engine < ::Rails::Engine
    # The webhook controller's request handling: the body is read raw (at most
    # BodyLimit::MAX_BODY + 1 bytes, enough for the library to answer 413) and never parsed
    # into `params`, so a webhook's customer data is neither held twice in memory nor written to
    # the log as "Parameters:"; the request goes through the library's generic entry.
    module WebhookBody
      extend ActiveSupport::Concern

      private

      # Runs before ActionController's instrumentation, which logs (and so parses) the parameters.
      def process_action(*)
        request.set_header("action_dispatch.request.request_parameters", ActiveSupport::HashWithIndifferentAccess.new)
        super
      end

      def raw_body
        io = request.body
        io.rewind if io.respond_to?(:rewind)
        (io.read(BodyLimit::MAX_BODY + 1) || +"").b
      end

      # Process the request as one of source's webhooks and send the library's answer as it is
      # (status, content type, body: Salesforce's SOAP ack, monday.com's challenge, the JSON).
      def answer_webhook(source)
        config = Fastepost::Engine.webhook_config
        options = { headers: webhook_headers, config: config, method: request.request_method, url: public_url }
        body = raw_body
        response = begin
          Fastepost::Engine.with { |conn| conn.webhook_process(source, body, **options) }
        rescue Fastepost::ConnectionError, Fastepost::PoolTimeout
          # No connection: a verified request goes to the configuration's spool (202); without
          # one the answer is 503 (Responses) and the CRM delivers again.
          raise unless config.spool

          Fastepost.webhook_process(source, body, conn: nil, **options)
        end
        send_data response.body, status: response.http_status, type: response.content_type, disposition: "inline"
      end

      # The request's headers by their HTTP names (Rack keeps them as HTTP_X_ODOO_API_KEY ...).
      def webhook_headers
        request.headers.env.each_with_object({}) do |(key, value), h|
          name = if key.start_with?("HTTP_") then key.delete_prefix("HTTP_")
                 elsif %w[CONTENT_TYPE CONTENT_LENGTH].include?(key) then key
                 end
          h[name.split("_").map(&:capitalize).join("-")] = value if name && value.is_a?(String)
        end
      end

      # The URL the CRM called (signatures and monday.com's JWT audience cover it). Behind a
      # proxy set public_url or make the proxy pass X-Forwarded-Proto/Host (request.url honours them).
      def public_url
        base = Fastepost::Engine.settings.resolved_public_url
        base.present? ? base + request.fullpath : request.url
      end
    end
  end
end
