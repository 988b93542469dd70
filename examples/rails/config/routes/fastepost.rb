# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The libfastepost routes. Copy this file to config/routes/fastepost.rb and add
#   draw :fastepost
# inside `Rails.application.routes.draw do ... end` in config/routes.rb (or paste the block).
namespace :api do
  namespace :v1 do
    namespace :integrations do
      post "odoo", to: "odoo#create"
      post "hubspot", to: "hubspot#create"
      # Every CRM: pipedrive, monday, salesforce, zoho (and odoo, hubspot through the two above,
      # which hand over to the generic entry when the webhook configuration has their section).
      post ":source", to: "webhooks#create", constraints: { source: Regexp.union(Fastepost.webhook_sources) },
                      format: false
    end
  end
end

namespace :admin do
  get "crm_dashboard", to: "crm_dashboard#show"
  scope "database", controller: "database", as: "database" do
    get "/", action: :stats, as: ""
    get "export", action: :export
    post "import", action: :import
    get "backups", action: :backups
    post "backups", action: :create_backup
    delete "backups", action: :prune_backups
    get "backups/:name", action: :download_backup, as: :backup, constraints: { name: %r{[^/]+} }, format: false
  end
end
