# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Admin
  # GET /admin/crm_dashboard(.json): the CRM integration dashboard (per-source counts, success
  # rates, the sync state, recent events and the webhook URLs to configure), computed by
  # libfastepost in one round trip: an entry for every CRM configured here
  # (FastepostDB.configured_sources) and every one with events. Render it with your own view (app/views/admin/
  # crm_dashboard/show.html.erb gets @stats) or use the JSON.
  class CrmDashboardController < ApplicationController
    include FastepostResponses
    include FastepostAdmin

    def show
      sources = FastepostDB.configured_sources
      @stats = with_fastepost { |conn| conn.crm_stats(request.base_url, sources: sources.presence) }
      respond_to do |format|
        format.html { render(template_exists?("admin/crm_dashboard/show") ? {} : { json: @stats.to_h }) }
        format.json { render json: @stats.to_h }
      end
    end
  end
end
