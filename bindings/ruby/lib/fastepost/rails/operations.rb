# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "time"

module Fastepost
  class Engine < ::Rails::Engine
    # The maintenance work the rake tasks (lib/tasks/fastepost.rake) and the jobs
    # (Fastepost::BackupJob ...) both do, each on a connection of the engine's pool. Each returns
    # what the library reported, as a Hash (the backup: its name).
    module Operations
      module_function

      # A backup into the engine's backup directory; its file name.
      def backup(format: "plain")
        Fastepost::Engine.with { |conn| conn.backup(Fastepost::Engine.backup_dir, format: format.to_sym) }
      end

      # Apply the deliveries the spool kept while the database was unreachable (each once),
      # each read with its source's section of the webhook configuration, as if live.
      def spool_replay(limit: 0)
        spool = Fastepost::Engine.spool
        config = Fastepost::Engine.webhook_config
        Fastepost::Engine.with { |conn| spool.replay(conn, limit: limit, config: config) }.to_h
      end

      # Process again the events that failed transiently and are due.
      def events_retry(limit: 100)
        config = Fastepost::Engine.webhook_config
        Fastepost::Engine.with { |conn| conn.events_retry(limit: limit, config: config) }.to_h
      end

      # Delete the events older than older_than_days (7 or more); status "success" or "all".
      def events_prune(older_than_days: 30, status: "success")
        Fastepost::Engine.with { |conn| conn.prune_events(older_than_days: older_than_days, status: status) }.to_h
      end

      # The Odoo reconciliation pull (docs/odoo-sync.md) from config.fastepost.odoo, through
      # the binding on a connection of the pool: the key is read from its file (or the setting)
      # and handed to the library in memory, never in argv or the environment. timeout bounds
      # each HTTP request (seconds). Raises Fastepost::Error on failure.
      def odoo_pull(full: false, since: nil, timeout: 60)
        odoo_sync(timeout) do |conn, args|
          since_us = since ? (Time.iso8601(since.to_s).to_r * 1_000_000).to_i : 0
          conn.odoo_pull(**args, full: full, since_us: since_us,
                                 models: Fastepost::Engine.settings.resolved_odoo["models"] || "res.partner")
        end
      end

      # Push local changes of Odoo-linked customers back to Odoo (compare-then-write; prefer
      # "remote" or "local" when both changed).
      def odoo_push(prefer: "remote", limit: 0, timeout: 60)
        odoo_sync(timeout) { |conn, args| conn.odoo_push(**args, prefer: prefer, limit: limit) }
      end

      def odoo_sync(timeout)
        o = Fastepost::Engine.settings.resolved_odoo
        missing = %w[url database].select { |k| o[k].blank? }
        missing << "api_key or api_key_file" if o["api_key"].blank? && o["api_key_file"].blank?
        raise Fastepost::InvalidError, "config.fastepost.odoo lacks #{missing.join(", ")}" if missing.any?

        key = o["api_key"].presence || File.read(o["api_key_file"]).strip
        args = { url: o["url"], api_key: key, database: o["database"], user: o["user"].presence,
                 protocol: o["protocol"].presence || "auto", timeout: timeout }
        Fastepost::Engine.with { |conn| yield(conn, args) }.to_h
      end
    end
  end
end
