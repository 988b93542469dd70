# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "json"
require "active_support/ordered_options"
require "active_support/core_ext/object/blank"
require "fastepost/rails/settings"
require "fastepost/rails/body_limit"
require "fastepost/rails/responses"
require "fastepost/rails/admin_auth"
require "fastepost/rails/webhook_body"
require "fastepost/rails/operations"

module Fastepost
  # The mountable engine. Its controllers, jobs, routes (config/routes.rb) and rake tasks
  # (lib/tasks) live under this file's directory, which is the engine's root whether the gem
  # runs from a checkout, an installed gem or a `cmake --install` tree.
  #
  # The process-wide state every controller, task and job shares (one pool, one spool, one
  # parsed webhook configuration) is held here, made on first use from config.fastepost
  # (Fastepost::Engine::Settings).
  class Engine < ::Rails::Engine
    def self.find_root(_from) = __dir__

    isolate_namespace Fastepost
    engine_name "fastepost"

    config.fastepost = Settings.new

    # An app without ActiveJob (rails new --skip-active-job) still boots: the job classes are
    # then neither autoloaded nor eager-loaded.
    initializer "fastepost.jobs_need_active_job", before: :set_autoload_paths do
      ::Rails.autoloaders.main&.ignore(File.join(__dir__, "app", "jobs")) unless defined?(::ActiveJob)
    end

    # First in the stack: a webhook body over the library's limit is refused (413) before Rails
    # reads or logs it (BodyLimit). The Odoo key may come as ?api_key=: never in the log.
    initializer "fastepost.middleware" do |app|
      app.config.middleware.insert_before 0, Fastepost::Engine::BodyLimit
      app.config.filter_parameters |= [:api_key]
    end

    # Settings changed by a reload (development) take effect on the next use.
    config.to_prepare { Fastepost::Engine.reset_memos }

    @lock = Mutex.new

    class << self
      # The host's config.fastepost.
      def settings = ::Rails.application.config.fastepost

      # A connection of the process's pool for the block; the block's value. PoolTimeout (503)
      # when none became free within pool_timeout, ConnectionError when none can be opened.
      def with(&block) = pool.with(&block)

      # The process's Fastepost::Pool: at most settings.pool_size connections, opened on first
      # use and shared by every thread (Puma's, ActiveJob's); it resets itself after a fork.
      def pool
        @lock.synchronize do
          @pool ||= Fastepost::Pool.new(settings.resolved_database_url, size: settings.resolved_pool_size,
                                                                        timeout: settings.resolved_pool_timeout,
                                                                        statement_timeout: settings.resolved_statement_timeout)
        end
      end

      # The spool of verified deliveries that met an unreachable database (created 0700 on use).
      def spool
        dir = settings.resolved_spool_dir
        @lock.synchronize do
          @spool = nil if @spool && @spool.dir != dir
          @spool ||= Fastepost::Spool.new(dir)
        end
      end

      # Where backups go (a Fastepost::BackupDir): settings.backup_dir, else the library's
      # per-user directory, never one inside the app.
      def backup_dir = Fastepost::BackupDir.new(settings.resolved_backup_dir)

      # Every CRM's webhook configuration, parsed once per process (Settings#webhook_json); a
      # source without a section is refused (401), never accepted.
      def webhook_config
        spool = self.spool
        @lock.synchronize { @webhook_config ||= Fastepost::WebhookConfig.new(settings.webhook_json, spool: spool) }
      end

      # The sources with a section: the dashboard and the metrics show them even before their
      # first event.
      def configured_sources = webhook_config.sources

      # Forget the pool and the parsed configuration (they are made again on next use); the
      # pool's connections are closed.
      def reset_memos
        pool = @lock.synchronize do
          @webhook_config = @spool = nil
          @pool.tap { @pool = nil }
        end
        pool&.close
      end
    end
  end
end
