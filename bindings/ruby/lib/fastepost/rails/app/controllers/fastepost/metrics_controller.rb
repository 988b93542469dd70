# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # GET <mount>/metrics: the CRM figures in Prometheus' text format (docs/metrics.md) for a
  # scraper that sends `Authorization: Bearer <metrics_token>` (FASTEPOST_METRICS_TOKEN). No
  # token configured: 404, the route is off; a missing or wrong one: 401.
  class MetricsController < ActionController::API
    include Fastepost::Engine::Responses

    def show
      token = Fastepost::Engine.settings.resolved_metrics_token
      return render(json: { error: "not found" }, status: :not_found) if token.empty?

      unless ActiveSupport::SecurityUtils.secure_compare(request.authorization.to_s, "Bearer #{token}")
        response.headers["WWW-Authenticate"] = 'Bearer realm="fastepost metrics"'
        return render(json: { error: "unauthorized" }, status: :unauthorized)
      end

      config = Fastepost::Engine.webhook_config
      spool = Fastepost::Engine.spool.dir
      text = with_fastepost { |conn| conn.crm_metrics(sources: config, spool: spool) }
      render plain: text, content_type: "text/plain; version=0.0.4; charset=utf-8"
    end
  end
end
