# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Odoo both ways (docs/odoo-sync.md): the reconciliation pull and the push-back, as methods of
# Connection. The API key is passed in memory (from the host's secret store or a key file),
# copied into the library's options and wiped when they are collected; it never goes into a
# URL, a log line or an error message. The reports have the keys of
# `fastepost odoo pull --json` and `fastepost odoo push --json`.
module Fastepost
  # What Connection#odoo_pull did: records fetched, each outcome's count, the records that
  # failed alone, customers made inactive (deleted), pages committed, and cursors:
  # {model => the cursor after the pull in microseconds since the epoch, or nil}.
  OdooPullReport = Struct.new(:status, :fetched, :created, :updated, :unchanged, :stale, :ignored,
                              :conflict, :duplicate, :failed, :deleted, :pages, :cursors, keyword_init: true)

  # What Connection#odoo_push did: outbox rows attempted, Odoo records written and created,
  # conflicts (Odoo changed after the version last synced), rows skipped (customer gone or
  # unlinked, record gone from Odoo) and failed (kept for a later attempt).
  OdooPushReport = Struct.new(:status, :attempted, :written, :created, :conflicts, :skipped, :failed,
                              keyword_init: true)

  class Connection
    # The Odoo pull and push methods of Connection (included there: they use its #synchronize
    # and @conn).
    module OdooSyncMethods
      # Pull what changed in Odoo since the last pull and sync it as webhook deliveries would
      # (`fastepost odoo pull`). overlap: and timeout: in seconds (0/nil: the defaults, 300 s
      # and 60 s). An OdooPullReport. NoKeyError/AuthError when the key is missing or refused;
      # TimeoutError, ConnectionError, BusyError when Odoo is slow, unreachable or busy (the
      # exception's #report counts what was committed).
      def odoo_pull(url:, api_key:, database: nil, user: nil, protocol: "auto", models: "res.partner",
                    since_us: 0, full: false, overlap: 0, page_size: 0, detect_deletions: false,
                    timeout: nil, ca_file: nil)
        o = odoo_sync_options(url, api_key, database, user, protocol, timeout, ca_file)
        Core.odoo_sync_options_set_models(o, models.to_s)
        Core.odoo_sync_options_set_since(o, Integer(since_us))
        Core.odoo_sync_options_set_full(o, full ? 1 : 0)
        Core.odoo_sync_options_set_overlap(o, (Float(overlap) * 1_000_000).round)
        Core.odoo_sync_options_set_page_size(o, Integer(page_size))
        Core.odoo_sync_options_set_detect_deletions(o, detect_deletions ? 1 : 0)
        odoo_sync_run(OdooPullReport) { Core.odoo_pull(@conn, o) }
      end

      # Send the queued local changes of Odoo-linked customers to Odoo (`fastepost odoo push`):
      # compare-then-write on write_date; prefer: "remote" (default: a record changed in Odoo
      # meanwhile is kept, a conflict event logged) or "local" (ours overwrites it); at most
      # limit: rows (0: 500). An OdooPushReport. InvalidError for an unknown protocol or
      # preference; NoKeyError/AuthError, TimeoutError, ConnectionError, BusyError as for
      # #odoo_pull (the rows stay queued).
      def odoo_push(url:, api_key:, database: nil, user: nil, protocol: "auto", prefer: "remote", limit: 0,
                    timeout: nil, ca_file: nil)
        o = odoo_sync_options(url, api_key, database, user, protocol, timeout, ca_file)
        Core.odoo_sync_options_set_prefer(o, Core.odoo_sync_prefer_parse(prefer.to_s))
        Core.odoo_sync_options_set_push_limit(o, Integer(limit || 0))
        odoo_sync_run(OdooPushReport) { Core.odoo_push(@conn, o) }
      end

      private

      def odoo_sync_options(url, api_key, database, user, protocol, timeout, ca_file)
        o = Core::OdooSyncOptions.new
        Core.odoo_sync_options_set_url(o, url.to_s)
        Core.odoo_sync_options_set_api_key(o, api_key.to_s)
        Core.odoo_sync_options_set_database(o, database&.to_s)
        Core.odoo_sync_options_set_user(o, user&.to_s)
        Core.odoo_sync_options_set_protocol(o, Core.odoo_sync_protocol_parse(protocol.to_s))
        Core.odoo_sync_options_set_timeouts(o, 0, (Float(timeout || 0) * 1_000_000).round)
        Core.odoo_sync_options_set_ca_file(o, ca_file&.to_s)
        o
      end

      def odoo_sync_run(report)
        report.new(**synchronize do
          yield
        rescue Error => e
          e.instance_variable_set(:@report, report.new(**e.report)) if e.report.is_a?(Hash)
          raise
        end)
      end
    end
  end
end
