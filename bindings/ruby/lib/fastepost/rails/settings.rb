# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "json"
require "active_support/ordered_options"

module Fastepost
  class Engine < ::Rails::Engine
    # config.fastepost: every setting of the engine. A setting left nil falls back to its
    # environment variable, then to the default below, when it is used (so an initializer, the
    # credentials or the environment may set it):
    #
    #   database_url       FASTEPOST_DATABASE_URL, DATABASE_URL        libpq URL or key=value
    #   pool_size          FASTEPOST_POOL, RAILS_MAX_THREADS, 5        connections per process
    #   pool_timeout       FASTEPOST_POOL_TIMEOUT, 5                   seconds; then 503
    #   statement_timeout  FASTEPOST_STATEMENT_TIMEOUT, 30             seconds; 0: none
    #   webhook_config     FASTEPOST_WEBHOOK_CONFIG_JSON, the file FASTEPOST_WEBHOOK_CONFIG
    #                      (a Hash or JSON: the format of `fastepost webhook process --config`)
    #   webhooks           per-source sections over webhook_config, e.g.
    #                      { pipedrive: { basic_auth: [ENV["PIPEDRIVE_BASIC_AUTH"]] } };
    #                      ODOO_API_KEY and HUBSPOT_CLIENT_SECRET (comma-separated while
    #                      rotating) give Odoo's and HubSpot's when neither names them
    #   spool_dir          FASTEPOST_SPOOL_DIR, Rails.root/tmp/spool
    #   backup_dir         FASTEPOST_BACKUP_DIR, the library's per-user directory
    #   public_url         PUBLIC_URL (the URL the CRMs call, when a proxy hides it)
    #   admin_authenticator nil (default): the admin token only. A Symbol: a method of the
    #                      admin controllers' parent (e.g. :authenticate_admin!) that renders or
    #                      redirects to refuse; a Proc: called with the controller, truthy allows
    #   admin_token        FASTEPOST_ADMIN_TOKEN; `Authorization: Bearer <it>`
    #   admin_parent_controller "ActionController::Base" (e.g. "ApplicationController")
    #   metrics_token      FASTEPOST_METRICS_TOKEN; GET metrics is 404 without one
    #   mount_path         "/api/v1/integrations" (where the webhook body limit applies)
    #   odoo               { url:, database:, user:, api_key: | api_key_file:, protocol:,
    #                        models: } for fastepost:odoo:pull (ODOO_URL, ODOO_DATABASE,
    #                      ODOO_USER, ODOO_PULL_API_KEY_FILE)
    #
    # Secrets (keys, tokens, passwords) nowhere else: never in a URL, a log or argv.
    class Settings < ActiveSupport::OrderedOptions
      DEFAULT_MOUNT = "/api/v1/integrations"

      def initialize
        super
        self.webhooks = {}
        self.odoo = {}
        self.mount_path = DEFAULT_MOUNT
        self.admin_parent_controller = "ActionController::Base"
      end

      def resolved_database_url = pick(:database_url, "FASTEPOST_DATABASE_URL", "DATABASE_URL").to_s

      def resolved_pool_size = Integer(pick(:pool_size, "FASTEPOST_POOL", "RAILS_MAX_THREADS") || 5)

      def resolved_pool_timeout = Float(pick(:pool_timeout, "FASTEPOST_POOL_TIMEOUT") || 5)

      def resolved_statement_timeout = Float(pick(:statement_timeout, "FASTEPOST_STATEMENT_TIMEOUT") || 30)

      def resolved_spool_dir
        (pick(:spool_dir, "FASTEPOST_SPOOL_DIR") || ::Rails.root.join("tmp", "spool")).to_s
      end

      def resolved_backup_dir = pick(:backup_dir, "FASTEPOST_BACKUP_DIR")&.to_s

      def resolved_public_url = pick(:public_url, "PUBLIC_URL")&.to_s&.chomp("/")

      def resolved_admin_token = pick(:admin_token, "FASTEPOST_ADMIN_TOKEN").to_s


      def resolved_metrics_token = pick(:metrics_token, "FASTEPOST_METRICS_TOKEN").to_s

      # The webhook configuration as JSON text (nil: no source configured): webhook_config, the
      # per-source sections of webhooks over it, and the 1.0 variables for Odoo and HubSpot.
      # Blank credentials are dropped, and a section left without any value with it, so a key
      # that is missing from the credentials or the environment leaves its source refused.
      def webhook_json
        base = pick(:webhook_config, "FASTEPOST_WEBHOOK_CONFIG_JSON")
        file = ENV["FASTEPOST_WEBHOOK_CONFIG"].presence if base.nil?
        base = File.binread(file) if file
        sections = compact_sections(base.is_a?(String) ? JSON.parse(base) : base)
        sections = sections.merge(compact_sections(self[:webhooks])) { |_, a, b| a.merge(b) }
        legacy = { "odoo" => ["api_keys", ENV["ODOO_API_KEY"]], "hubspot" => ["client_secrets", ENV["HUBSPOT_CLIENT_SECRET"]] }
        legacy.each do |source, (key, value)|
          sections[source] ||= { key => list(value) } if list(value).any?
        end
        sections.empty? ? nil : JSON.generate(sections)
      end

      # Where the Odoo pull reads from, with the same environment fallbacks.
      def resolved_odoo
        o = deep_strings(self[:odoo] || {})
        { "url" => o["url"] || ENV["ODOO_URL"], "database" => o["database"] || ENV["ODOO_DATABASE"],
          "user" => o["user"] || ENV["ODOO_USER"], "api_key" => o["api_key"],
          "api_key_file" => o["api_key_file"] || ENV["ODOO_PULL_API_KEY_FILE"],
          "protocol" => o["protocol"], "models" => Array(o["models"]).join(",").presence }
      end

      private

      # The setting when set (not nil, not blank), else the first environment variable that is.
      def pick(name, *vars)
        value = self[name]
        return value unless value.nil? || (value.respond_to?(:empty?) && value.empty?)

        vars.lazy.map { |v| ENV[v] }.find(&:present?)
      end

      def list(value) = value.to_s.split(",").map(&:strip).reject(&:empty?)

      def deep_strings(value)
        case value
        when Hash then value.to_h { |k, v| [k.to_s, deep_strings(v)] }
        when Array then value.map { |v| deep_strings(v) }
        when Symbol then value.to_s
        else value
        end
      end

      # Sections with their blank values dropped (a credential that is not set), and then the
      # sections left empty.
      def compact_sections(sections)
        compact_blank(deep_strings(sections || {})).select { |_, s| s.is_a?(Hash) }
      end

      def compact_blank(value)
        case value
        when Hash then value.transform_values { |v| compact_blank(v) }.reject { |_, v| blank_value?(v) }
        when Array then value.map { |v| compact_blank(v) }.reject { |v| blank_value?(v) }
        else value
        end
      end

      def blank_value?(v) = v.nil? || (v.respond_to?(:empty?) && v.empty?)
    end
  end
end
