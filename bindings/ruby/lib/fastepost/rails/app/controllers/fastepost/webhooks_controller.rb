# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # POST <mount>/:source for every CRM libfastepost knows (odoo, hubspot, pipedrive, monday,
  # salesforce, zoho), all through the library's generic entry: it answers monday.com's
  # challenge, verifies the request against the webhook configuration (a source without a
  # section, or a missing or wrong credential: 401, nothing written), processes its events and
  # says what to answer, which goes out as it is. An unreachable database spools a verified
  # request (202). No session, no CSRF token: the senders authenticate themselves.
  class WebhooksController < ActionController::API
    include Fastepost::Engine::Responses
    include Fastepost::Engine::WebhookBody

    def create
      answer_webhook(params.fetch(:source))
    end
  end
end
