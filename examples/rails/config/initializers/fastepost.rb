# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# libfastepost in the Rails app: one Fastepost::Pool per process, shared by every thread (each
# Puma worker thread, each Sidekiq/ActiveJob thread). At most FASTEPOST_POOL connections
# (default RAILS_MAX_THREADS, else 5) are opened, on first use, from DATABASE_URL, whatever the
# number of threads; a thread that finds none free within FASTEPOST_POOL_TIMEOUT seconds gets
# Fastepost::PoolTimeout, which the controllers answer 503 (a webhook sender delivers again).
# A connection serves one call at a time, and calls release the GVL while they wait on
# PostgreSQL or pg_dump. The pool resets itself in a process forked after it was made (Puma's
# preload_app): the parent's connections are never used or closed there.
require "fastepost"
require "json"
require "stringio"

module FastepostDB
  # The webhook paths of config/routes/fastepost.rb (one per CRM source) and the most of a
  # webhook body anything here reads: one byte over the library's 1 MiB limit.
  WEBHOOK_PATHS = Fastepost.webhook_sources.map { |source| "/api/v1/integrations/#{source}" }.freeze
  MAX_BODY = 1024 * 1024

  # First in the middleware stack: a webhook body over MAX_BODY is answered 413 here, from its
  # Content-Length alone when it declares one, else after reading MAX_BODY + 1 bytes, so no
  # later middleware, parameter parser or logger ever sees it. A body within the limit is
  # handed on as the bytes read, with the request parameters already set (to none): Rails then
  # never parses a webhook body into `params`, and so never writes customers' data to the log
  # as "Parameters:". (The webhook controllers also read only `request.body`, raw.)
  class WebhookBodyLimit
    def initialize(app, paths: WEBHOOK_PATHS, limit: MAX_BODY)
      @app = app
      @paths = paths
      @limit = limit
    end

    def call(env)
      path = webhook_path(env["PATH_INFO"])
      return @app.call(env) unless env["REQUEST_METHOD"] == "POST" && path

      declared = env["CONTENT_LENGTH"].to_s
      return too_big(path) if declared.match?(/\A\d+\z/) && declared.to_i > @limit

      body = (env["rack.input"]&.read(@limit + 1) || +"").b
      return too_big(path) if body.bytesize > @limit

      env["rack.input"] = StringIO.new(body)
      env["CONTENT_LENGTH"] = body.bytesize.to_s
      env["action_dispatch.request.request_parameters"] = ActiveSupport::HashWithIndifferentAccess.new
      @app.call(env)
    end

    private

    # The router matches /odoo, /odoo/, //odoo and /odoo.json alike; so does this. Returns the
    # webhook path (one of @paths, never the request's own text) or nil.
    def webhook_path(path_info)
      path = path_info.to_s.squeeze("/").chomp("/").sub(%r{\.[^./]*\z}, "")
      @paths.find { |p| p == path }
    end

    def too_big(path)
      Rails.logger&.warn("Refused a webhook body over #{@limit} bytes (413): POST #{path}")
      body = JSON.generate(http_status: 413, error: "TooBigError",
                           message: "request body over #{@limit} bytes, the limit for a webhook")
      [413, { "Content-Type" => "application/json", "Content-Length" => body.bytesize.to_s }, [body]]
    end
  end

  module_function

  # Check a connection out of the process's pool for the block; the block's value. A broken
  # connection (e.g. after a failover) is replaced on the next checkout. Raises PoolTimeout
  # (503) when none became free in time, ConnectionError when a new one cannot be opened.
  def with(&block) = pool.with(&block)

  # The process's pool, made on first use with the configuration below.
  def pool
    @pool_lock.synchronize do
      @pool ||= Fastepost::Pool.new(database_url, size: pool_size, timeout: pool_timeout,
                                                  statement_timeout: statement_timeout)
    end
  end
  @pool_lock = Mutex.new

  def database_url = ENV.fetch("DATABASE_URL", "")

  # Connections per process: as many as the threads that may use them at once (Puma's
  # RAILS_MAX_THREADS, Sidekiq's concurrency). Mind PostgreSQL's max_connections: the sum over
  # all processes must stay below it.
  def pool_size = Integer(ENV.fetch("FASTEPOST_POOL") { ENV.fetch("RAILS_MAX_THREADS", "5") })

  # Seconds a request waits for a free connection before PoolTimeout (503).
  def pool_timeout = Float(ENV.fetch("FASTEPOST_POOL_TIMEOUT", "5"))

  # Seconds; 0 turns the limit off. Webhook senders give up quickly (Odoo after ~1 s), so
  # keep it short; exports and backups are not bound by it.
  def statement_timeout = Float(ENV.fetch("FASTEPOST_STATEMENT_TIMEOUT", "30"))

  # Where backups go: FASTEPOST_BACKUP_DIR, else the library's per-user default
  # ($XDG_STATE_HOME/fastepost/backups, else ~/.local/state/fastepost/backups), never a
  # directory inside the app (a deploy may make it group-writable or share it). The library
  # creates it 0700 on the first backup and refuses one that is not owned by the app's user or
  # is group- or world-writable. Returns a Fastepost::BackupDir (#dir is its path).
  def backup_dir = Fastepost::BackupDir.new(ENV["FASTEPOST_BACKUP_DIR"].presence)

  # Where Odoo deliveries that cannot reach PostgreSQL are kept (answered 202: Odoo never
  # retries). Replay them from cron: `fastepost spool replay --dir <this>`.
  def spool_dir
    ENV.fetch("FASTEPOST_SPOOL_DIR") { Rails.root.join("tmp", "spool").to_s }
  end

  # The spool (created 0700 on first use); one per directory, shared by every thread (a Spool
  # serialises its own calls).
  def spool
    dir = spool_dir
    @spool_lock.synchronize do
      @spool = nil if @spool && @spool.dir != dir
      @spool ||= Fastepost::Spool.new(dir)
    end
  end
  @spool_lock = Mutex.new

  # The configuration of every CRM's webhooks (docs/webhooks.md: the JSON of
  # `fastepost webhook process --config`), parsed once per process and shared by every thread:
  # the JSON of FASTEPOST_WEBHOOK_CONFIG_JSON, else of the file FASTEPOST_WEBHOOK_CONFIG. A
  # source without a section is refused (401); with neither variable, only the 1.0 Odoo and
  # HubSpot routes (ODOO_API_KEY, HUBSPOT_CLIENT_SECRET) accept anything. Verified requests that
  # meet an unreachable database go to the spool below (202).
  def webhook_config
    @config_lock.synchronize do
      @webhook_config ||= begin
        json = ENV["FASTEPOST_WEBHOOK_CONFIG_JSON"].presence
        json ||= File.binread(ENV["FASTEPOST_WEBHOOK_CONFIG"]) if ENV["FASTEPOST_WEBHOOK_CONFIG"].present?
        Fastepost::WebhookConfig.new(json, spool: spool)
      end
    end
  end
  @config_lock = Mutex.new

  # The CRMs this app accepts webhooks from: the webhook configuration's sections, and Odoo and
  # HubSpot while their 1.0 keys are set. The dashboard shows these even before their first event.
  def configured_sources
    sources = webhook_config.sources
    sources |= ["odoo"] if odoo_api_keys.any?
    sources |= ["hubspot"] if hubspot_secrets.any?
    sources
  end

  # The keys Odoo may present (comma-separated while rotating); none: every request is 401.
  def odoo_api_keys = list(ENV["ODOO_API_KEY"])

  # HubSpot app client secrets, newest first (comma-separated while rotating).
  def hubspot_secrets = list(ENV["HUBSPOT_CLIENT_SECRET"])

  def list(value) = value.to_s.split(",").map(&:strip).reject(&:empty?)
end

Rails.application.config.middleware.insert_before 0, FastepostDB::WebhookBodyLimit
# The Odoo key may come as ?api_key=: keep it out of "Started POST ..." and "Parameters:".
Rails.application.config.filter_parameters |= [:api_key]
