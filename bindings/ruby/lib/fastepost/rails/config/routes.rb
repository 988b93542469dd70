# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The engine's routes, under the path the app mounts it at
# (`mount Fastepost::Engine, at: "/api/v1/integrations"`).
Fastepost::Engine.routes.draw do
  get "metrics", to: "metrics#show", format: false
  get "admin/crm_dashboard", to: "crm_dashboard#show", as: :crm_dashboard
  scope "admin/database", controller: "database", as: "database" do
    get "/", action: :stats, as: ""
    get "export", action: :export
    post "import", action: :import
    get "backups", action: :backups
    post "backups", action: :create_backup
    delete "backups", action: :prune_backups
    get "backups/:name", action: :download_backup, as: :backup, constraints: { name: %r{[^/]+} }, format: false
  end
  # Every CRM: odoo, hubspot, pipedrive, monday, salesforce, zoho.
  post ":source", to: "webhooks#create", as: :webhook, format: false,
                  constraints: { source: Regexp.union(Fastepost.webhook_sources) }
end
