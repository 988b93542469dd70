# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Figures: the CRM dashboard (docs/crm-stats.md), the database figures (docs/stats.md) and
# the HTML report (docs/report.md), with their methods of Connection.
module Fastepost
  # CRM statistics (docs/crm-stats.md). to_h gives the keys and types of the CLI's --json:
  # success_rate is a percentage with one decimal, or nil when no event has finished; health is
  # "good", "warning" or "none" and badge its colour; every time is <key> (ISO 8601 UTC text)
  # and <key>_us (microseconds since the epoch), both nil when there is none.
  # configured: whether the application named the source (sources:); title: its name as the
  # CRM writes it ("monday.com"); webhook_url: where it sends its webhooks; instructions: what
  # to set up on its side.
  CrmSourceStats = Struct.new(:source, :total_events, :events_24h, :success_events, :error_events,
                              :dead_events, :pending_events, :success_rate, :health, :badge,
                              :last_event_at, :last_event_at_us, :last_event_type, :configured,
                              :title, :webhook_url, :instructions, keyword_init: true)
  CrmSyncStats = Struct.new(:total_customers, :synced_customers, :pending_tasks, :last_sync_at,
                            :last_sync_at_us, keyword_init: true)
  CrmRecentEvent = Struct.new(:id, :source, :event_type, :status, :outcome, :error, :created_at,
                              :created_at_us, :time_ago, keyword_init: true)
  CrmSetup = Struct.new(:odoo_webhook_url, :odoo_webhook_url_with_key, :odoo_api_key_header,
                        :odoo_api_key_param, :hubspot_webhook_url, :hubspot_signature_header,
                        :hubspot_timestamp_header, keyword_init: true)
  # sources (alphabetical: each with events and each configured one), sync, recent (newest first, at most
  # 20), setup, and the clock they were computed for (generated_at, generated_at_us).
  CrmStats = Struct.new(:sources, :sync, :recent, :setup, :generated_at, :generated_at_us,
                        keyword_init: true) do
    include DeepHash
    # The CrmSourceStats of a source ("hubspot"), or nil.
    def source(name) = sources.find { |s| s.source == name.to_s }

    def self.from(h)
      new(**h, sources: h[:sources].map { |x| CrmSourceStats.new(**x) },
               sync: CrmSyncStats.new(**h[:sync]),
               recent: h[:recent].map { |x| CrmRecentEvent.new(**x) },
               setup: CrmSetup.new(**h[:setup]))
    end
  end

  # The dashboard's "time ago" text ("just now", "3 minutes ago", "2 days ago" ...) of a
  # moment, both in microseconds since the epoch.
  def self.time_ago(then_us, now_us) = Core.report_time_ago(Integer(then_us), Integer(now_us))

  # One table of DbStats: rows_estimate (nil when unknown), rows_exact (nil unless asked), sizes
  # in bytes.
  DbTableStats = Struct.new(:name, :rows_estimate, :rows_exact, :total_bytes, :table_bytes, :index_bytes,
                            keyword_init: true)
  # The newest full backup of DbStats: name, size_bytes, created_at (ISO 8601 UTC), created_at_us.
  DbNewestBackup = Struct.new(:name, :size_bytes, :created_at, :created_at_us, keyword_init: true)
  # The database figures (docs/stats.md): database, size_bytes, tables (largest first),
  # backup_count (nil without a backup directory) and newest_backup (DbNewestBackup or nil).
  DbStats = Struct.new(:database, :size_bytes, :tables, :backup_count, :newest_backup, keyword_init: true) do
    include DeepHash
    def self.from(h)
      new(**h, tables: h[:tables].map { |t| DbTableStats.new(**t) },
               newest_backup: h[:newest_backup] && DbNewestBackup.new(**h[:newest_backup]))
    end
  end

  # Helpers of the figures' methods.
  module Stats
    # The configured sources as the helpers take them: "pipedrive,zoho", or nil.
    def self.sources_arg(sources)
      return nil if sources.nil?

      sources = sources.sources if sources.respond_to?(:sources) # a WebhookConfig
      names = Array(sources)
      names.each do |name|
        raise InvalidError, "not a CRM source: #{name.inspect}" unless name.is_a?(String) && !name.empty? &&
                                                                      !name.include?(",")
      end
      names.empty? ? nil : names.join(",")
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
      # sources: the CRMs the application is configured for, as for crm_stats.
      def report_html(backup_dir: nil, base_url: nil, title: nil, sources: nil)
        backup_dir = backup_dir.dir if backup_dir.is_a?(BackupDir)
        list = Stats.sources_arg(sources)
        synchronize { Core.report_html(@conn, backup_dir&.to_s, base_url, title, list) }
      end

      # The CRM dashboard's figures as a CrmStats. base_url ("https://...") makes the set-up URLs
      # absolute; odoo_path / hubspot_path replace the default webhook paths; now_us
      # (microseconds since the epoch) fixes the clock (default: the server's). Raises
      # VersionError before schema version 2, InvalidError for a base URL that is not http(s),
      # a path without a leading "/" or an unknown source. sources: the CRMs the application is
      # configured for (an Array of names, or a WebhookConfig: its sections), each of which
      # gets an entry even without events (nil or empty: odoo and hubspot).
      def crm_stats(base_url = nil, odoo_path: nil, hubspot_path: nil, now_us: nil, sources: nil)
        now = now_us.nil? ? -1 : Integer(now_us)
        raise ArgumentError, "now_us must be 0 or more" if now_us && now.negative?

        list = Stats.sources_arg(sources)
        h = synchronize { Core.crm_stats_collect(@conn, base_url, odoo_path, hubspot_path, now, list) }
        CrmStats.from(h)
      end

      # The CRM figures in Prometheus' text exposition format (docs/metrics.md), for a /metrics
      # route: sources as for crm_stats; spool: a spool directory whose depth to include.
      def crm_metrics(sources: nil, spool: nil)
        list = Stats.sources_arg(sources)
        synchronize { Core.crm_metrics(@conn, list, spool&.to_s) }
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
