# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # GET <mount>/admin/crm_dashboard(.json): the CRM integration dashboard, computed by
  # libfastepost in one round trip for every configured CRM and every one with events: HTML (the
  # library's self-contained report, no external assets) or JSON (crm_stats). The report shows
  # the webhook URLs of the default mount (/api/v1/integrations); the JSON those of this one.
  class CrmDashboardController < AdminController
    def show
      sources = Fastepost::Engine.configured_sources.presence
      if request.format.json?
        mount = request.script_name.to_s
        stats = with_fastepost do |conn|
          conn.crm_stats(request.base_url, sources: sources, odoo_path: "#{mount}/odoo", hubspot_path: "#{mount}/hubspot")
        end
        render json: stats.to_h
      else
        html = with_fastepost do |conn|
          conn.report_html(backup_dir: backup_dir, base_url: request.base_url, sources: sources)
        end
        response.headers["Cache-Control"] = "no-store"
        render html: html.html_safe, content_type: "text/html"
      end
    end
  end
end
