# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # The admin's database tools, all done by libfastepost (paths under the engine's mount):
  #
  #   GET    admin/database                  size, tables, row counts, backups (db_stats)
  #   GET    admin/database/export?table=customers&format=csv|json|ndjson
  #                                           a streamed download: memory stays at one batch
  #   POST   admin/database/import           table, file (multipart), dry_run=1, on_conflict, key
  #   GET    admin/database/backups          the newest backups
  #   POST   admin/database/backups          take one now (format=plain|custom)
  #   GET    admin/database/backups/:name    download one (checked against its checksum first)
  #   DELETE admin/database/backups?keep=N[&older_than_days=D]
  class DatabaseController < AdminController
    TRUE_VALUES = %w[1 true yes on].freeze
    EXPORT_FORMATS = { "csv" => "text/csv", "json" => "application/json", "ndjson" => "application/x-ndjson" }.freeze

    def stats
      render json: with_fastepost { |conn| conn.db_stats(backups: backup_dir).to_h }
    end

    # Streamed: rows reach the client as the export reads them, memory stays at one batch and
    # nothing sets a Content-Length. The table is checked first (an export of at most one row,
    # thrown away, raises NotFoundError for an unknown one), because once streaming has begun the
    # status can no longer change; a failure later cuts the download short.
    def export
      table = params.require(:table)
      format = params.fetch(:format, "csv")
      unless EXPORT_FORMATS.key?(format)
        return render(json: { error: "format must be one of #{EXPORT_FORMATS.keys.join(", ")}" }, status: :bad_request)
      end

      with_fastepost { |conn| conn.export(table, format: format.to_sym, limit: 1, io: StringIO.new) }
      response.headers["Content-Type"] = EXPORT_FORMATS[format]
      response.headers["Content-Disposition"] =
        ActionDispatch::Http::ContentDisposition.format(disposition: "attachment", filename: "#{table}.#{format}")
      response.headers["Cache-Control"] = "no-store" # customers' data: no copies in caches
      response.headers["X-Accel-Buffering"] = "no"   # nginx: pass it on as it comes
      if request.env["rack.hijack?"]
        stream_hijacked(table, format.to_sym)
      else
        stream_body(table, format.to_sym)
      end
    end

    def import
      upload = params.require(:file)
      report = with_fastepost do |conn|
        conn.import_csv(params.require(:table), upload.respond_to?(:path) ? upload.path : upload,
                        dry_run: TRUE_VALUES.include?(params[:dry_run].to_s.downcase),
                        on_conflict: params.fetch(:on_conflict, "error").to_sym,
                        key: params[:key].presence)
      end
      render json: report.to_h
    end

    def backups
      dir = backup_dir
      render json: { directory: dir.dir, backups: dir.list(limit: 20).map(&:to_h) }
    end

    def create_backup
      name = with_fastepost { |conn| conn.backup(backup_dir, format: params.fetch(:format, "plain").to_sym) }
      render json: { name: name }, status: :created
    end

    def download_backup
      name = params.require(:name)
      dir = backup_dir
      dir.verify(name) # only a listed backup whose checksum still matches is served
      send_file dir.path(name), filename: name, type: "application/octet-stream"
    end

    def prune_backups
      removed = backup_dir.prune(keep: params[:keep]&.to_i, older_than_days: params[:older_than_days]&.to_i)
      render json: { removed: Array(removed).map { |b| b.respond_to?(:name) ? b.name : b.to_s } }
    end

    private

    # Servers that let the app write the body itself (Rack's partial hijack: WEBrick, Puma,
    # Passenger) get it that way, because WEBrick collects a Rack body whole before sending a
    # byte. The server calls the lambda after this request has left the controller and the
    # thread moves on to other requests, so the export runs on a thread and a connection of its
    # own (checked out of the pool, so exports count against FASTEPOST_POOL like everything
    # else), given back when it ends; an unreachable client (EPIPE) ends it too.
    def stream_hijacked(table, format)
      log = logger
      response.headers["rack.hijack"] = lambda do |io|
        Thread.new do
          # Binary: with Rails' Encoding.default_internal every write to a text-mode IO makes
          # a converted copy of the chunk (40 MB more server memory for a 58 MB export).
          io.binmode
          Fastepost::Engine.with { |conn| conn.export(table, format: format, io: SpentChunkWriter.new(io)) }
        rescue StandardError => e
          log&.warn("fastepost export of #{table} cut short: #{e.class}: #{e.message}")
        ensure
          io.close
        end
      end
      self.response_body = []
    end

    # Other servers get an Enumerator that runs the export while they send it. Rack::ETag would
    # read a body without an ETag or Last-Modified whole to compute one, so it gets the time of
    # the export as Last-Modified. The connection is checked out while the server enumerates.
    def stream_body(table, format)
      response.headers["Last-Modified"] = Time.now.httpdate
      self.response_body = Enumerator.new do |out|
        Fastepost::Engine.with { |conn| conn.export(table, format: format, io: ChunkWriter.new(out)) }
      end
    end

    # The #write an export wants, handing each chunk to the response body as it comes.
    ChunkWriter = Struct.new(:out) do
      def write(chunk)
        out << chunk
        chunk.bytesize
      end
    end

    # Writes each chunk to the client's stream and then empties it, which frees its memory at
    # once: an export makes 64 kB chunks at network speed, faster than Ruby's GC collects them
    # (a 58 MB export left the process 38 MB bigger); freed as written, memory stays flat.
    SpentChunkWriter = Struct.new(:io) do
      def write(chunk)
        written = io.write(chunk)
        chunk.clear unless chunk.frozen?
        written
      end
    end
  end
end
