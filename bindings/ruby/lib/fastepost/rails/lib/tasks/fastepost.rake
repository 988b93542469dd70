# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The engine's maintenance tasks (Fastepost::Engine::Operations; the jobs do the same). Each
# prints the library's report as JSON; a failure exits non-zero with the library's message.
namespace :fastepost do
  report = ->(value) { puts(value.is_a?(String) ? value : JSON.generate(value)) }

  desc "Take a backup into config.fastepost.backup_dir (FORMAT=plain|custom)"
  task backup: :environment do
    report.call(Fastepost::Engine::Operations.backup(format: ENV.fetch("FORMAT", "plain")))
  end

  namespace :schema do
    desc "Install or upgrade the library's schema (what the generated migration does)"
    task install: :environment do
      report.call({ applied: Fastepost::Engine.with(&:schema_install) })
    end
  end

  namespace :spool do
    desc "Replay the webhook deliveries spooled while the database was unreachable (LIMIT=n)"
    task replay: :environment do
      report.call(Fastepost::Engine::Operations.spool_replay(limit: Integer(ENV.fetch("LIMIT", "0"))))
    end
  end

  namespace :events do
    desc "Process again the events that failed transiently and are due (LIMIT=n, default 100)"
    task retry: :environment do
      report.call(Fastepost::Engine::Operations.events_retry(limit: Integer(ENV.fetch("LIMIT", "100"))))
    end

    desc "Delete events older than DAYS (default 30, at least 7); STATUS=success|all"
    task prune: :environment do
      report.call(Fastepost::Engine::Operations.events_prune(older_than_days: Integer(ENV.fetch("DAYS", "30")),
                                                             status: ENV.fetch("STATUS", "success")))
    end
  end

  namespace :odoo do
    desc "Pull what changed in Odoo (config.fastepost.odoo; FULL=1 for everything)"
    task pull: :environment do
      report.call(Fastepost::Engine::Operations.odoo_pull(full: ENV["FULL"] == "1"))
    end

    desc "Push local changes of Odoo-linked customers to Odoo (PREFER=remote|local, LIMIT=N)"
    task push: :environment do
      report.call(Fastepost::Engine::Operations.odoo_push(prefer: ENV.fetch("PREFER", "remote"),
                                                          limit: Integer(ENV.fetch("LIMIT", "0"))))
    end
  end
end
