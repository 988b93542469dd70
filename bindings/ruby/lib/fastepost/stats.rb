# frozen_string_literal: true

# Figures: the CRM dashboard (docs/crm-stats.md), the database figures (docs/stats.md) and
# the HTML report (docs/report.md), with their methods of Connection.
module Fastepost
  # CRM statistics (docs/crm-stats.md). success_rate is a percentage with one decimal, or nil
  # when no event has finished; times are ISO 8601 UTC text (nil without) with *_ms twins.
  CrmSourceStats = Struct.new(:source, :total_events, :events_24h, :success_events, :error_events,
                              :dead_events, :pending_events, :success_rate, :badge, :last_event_at,
                              :last_event_at_ms, :last_event_type, keyword_init: true)
  CrmSyncStats = Struct.new(:total_customers, :synced_customers, :pending_tasks, :last_sync_at,
                            :last_sync_at_ms, keyword_init: true)
  CrmRecentEvent = Struct.new(:id, :source, :event_type, :status, :outcome, :error, :created_at,
                              :created_at_ms, :time_ago, keyword_init: true)
  CrmSetup = Struct.new(:odoo_webhook_url, :odoo_webhook_url_with_key, :odoo_api_key_header,
                        :odoo_api_key_param, :hubspot_webhook_url, :hubspot_signature_header,
                        :hubspot_timestamp_header, keyword_init: true)
  # sources (alphabetical, always with hubspot and odoo), sync, recent (newest first, at most
  # 20), setup, and the clock they were computed for.
  CrmStats = Struct.new(:generated_at, :generated_at_ms, :sources, :sync, :recent, :setup,
                        keyword_init: true) do
    include DeepHash
    # The CrmSourceStats of a source ("hubspot"), or nil.
    def source(name) = sources.find { |s| s.source == name.to_s }

    def self.from(h)
      new(generated_at: h[:generated_at], generated_at_ms: h[:generated_at_ms],
          sources: h[:sources].map { |x| CrmSourceStats.new(**x) },
          sync: CrmSyncStats.new(**h[:sync]),
          recent: h[:recent].map { |x| CrmRecentEvent.new(**x) },
          setup: CrmSetup.new(**h[:setup]))
    end
  end

  # The dashboard's "time ago" text ("just now", "3 minutes ago", "2 days ago" ...).
  def self.time_ago(then_ms, now_ms) = Core.time_ago(Integer(then_ms), Integer(now_ms))

  # One table of DbStats: rows_estimate (-1 unknown), rows_exact (-1 unless asked), sizes.
  DbTableStats = Struct.new(:name, :rows_estimate, :rows_exact, :total_bytes, :table_bytes, :index_bytes,
                            keyword_init: true)
  # The database figures (docs/stats.md): database, size_bytes, tables (largest first),
  # backup_count (-1 without a backup directory) and newest_backup (BackupInfo or nil).
  DbStats = Struct.new(:database, :size_bytes, :tables, :backup_count, :newest_backup, keyword_init: true) do
    include DeepHash
    def self.from(h)
      new(**h, tables: h[:tables].map { |t| DbTableStats.new(**t) },
               newest_backup: h[:newest_backup] && BackupInfo.from(h[:newest_backup]))
    end
  end

  class Connection
    # The figures and report methods of Connection (included there: they use its #synchronize
    # and @conn, and BackupMethods' #backup_dir).
    module StatsMethods
      # The database figures as a DbStats; backups: (a path or BackupDir) adds the backup count;
      # exact: counts every table's rows.
      def db_stats(backups: nil, exact: false)
        d = backups && backup_dir(backups)
        DbStats.from(synchronize { Core.stats_db(@conn, d&.send(:core), exact ? 1 : 0) })
      end

      # The self-contained HTML report (docs/report.md) as a UTF-8 String.
      def report_html(backup_dir: nil, base_url: nil, title: nil)
        backup_dir = backup_dir.dir if backup_dir.is_a?(BackupDir)
        synchronize { Core.report_html(@conn, backup_dir&.to_s, base_url, title) }
      end

      # The CRM dashboard's figures as a CrmStats. base_url ("https://...") makes the set-up URLs
      # absolute; now_ms fixes the clock (default: the server's). Raises VersionError before
      # schema version 2, InvalidError for a base URL that is not http(s).
      def crm_stats(base_url = nil, now_ms: nil)
        h = synchronize { Core.crm_stats_collect(@conn, base_url, now_ms.nil? ? -1 : Integer(now_ms)) }
        CrmStats.from(h)
      end

      # Recount the CRM counters from the tables (only needed after writes with the triggers
      # disabled).
      def crm_stats_rebuild
        synchronize { Core.crm_stats_rebuild(@conn) }
        nil
      end
    end
  end
end
