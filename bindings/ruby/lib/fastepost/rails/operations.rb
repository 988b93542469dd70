# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "json"
require "tempfile"
require "timeout"

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

      # Apply the deliveries the spool kept while the database was unreachable (each once).
      def spool_replay(limit: 0)
        spool = Fastepost::Engine.spool
        Fastepost::Engine.with { |conn| spool.replay(conn, limit: limit) }.to_h
      end

      # Process again the events that failed transiently and are due.
      def events_retry(limit: 100)
        Fastepost::Engine.with { |conn| conn.events_retry(limit: limit) }.to_h
      end

      # Delete the events older than older_than_days (7 or more); status "success" or "all".
      def events_prune(older_than_days: 30, status: "success")
        Fastepost::Engine.with { |conn| conn.prune_events(older_than_days: older_than_days, status: status) }.to_h
      end

      # `fastepost odoo pull --json` from config.fastepost.odoo (docs/odoo-sync.md): the key
      # reaches it as a file of mode 0600 (never argv), the database URL through the
      # environment. Bounded by timeout seconds; raises Fastepost::Error on failure.
      def odoo_pull(full: false, since: nil, timeout: 600)
        o = Fastepost::Engine.settings.resolved_odoo
        missing = %w[url database].select { |k| o[k].blank? }
        missing << "api_key or api_key_file" if o["api_key"].blank? && o["api_key_file"].blank?
        raise Fastepost::InvalidError, "config.fastepost.odoo lacks #{missing.join(", ")}" if missing.any?

        with_key_file(o) do |key_file|
          args = ["odoo", "pull", "--url", o["url"], "--database", o["database"], "--api-key-file", key_file, "--json"]
          args += ["--user", o["user"]] if o["user"].present?
          args += ["--protocol", o["protocol"]] if o["protocol"].present?
          args += ["--models", o["models"]] if o["models"].present?
          args << "--full" if full
          args += ["--since", since.to_s] if since
          run_cli(args, timeout)
        end
      end

      def with_key_file(odoo)
        return yield(odoo["api_key_file"]) if odoo["api_key"].blank?

        Tempfile.create("fastepost-odoo-key") do |f| # created 0600
          f.write(odoo["api_key"])
          f.flush
          yield f.path
        end
      end

      def run_cli(args, timeout)
        env = { "DATABASE_URL" => Fastepost::Engine.settings.resolved_database_url }
        out_r, out_w = IO.pipe
        err_r, err_w = IO.pipe
        pid = Process.spawn(env, Fastepost::Engine.settings.resolved_cli, *args, out: out_w, err: err_w, in: File::NULL)
        out_w.close
        err_w.close
        readers = [Thread.new { out_r.read }, Thread.new { err_r.read }]
        status = begin
          Timeout.timeout(Float(timeout)) { Process.wait2(pid)[1] }
        rescue Timeout::Error
          Process.kill("KILL", pid)
          Process.wait(pid)
          raise Fastepost::TimeoutError, "fastepost odoo pull did not finish within #{timeout} s"
        end
        out, err = readers.map(&:value)
        return JSON.parse(out) if status.success?

        raise Fastepost::Error, "fastepost odoo pull failed (exit #{status.exitstatus}): #{err.lines.last&.strip}"
      ensure
        [out_r, err_r].each { |io| io&.close unless io&.closed? }
      end
    end
  end
end
