# frozen_string_literal: true

module Admin
  # The admin's database tools, all done by libfastepost:
  #
  #   GET    /admin/database                  size, tables, row counts, backups (db_stats)
  #   GET    /admin/database/export?table=customers&format=csv|json|ndjson
  #                                           a streamed download: memory stays at one row
  #   POST   /admin/database/import           table, file (multipart), dry_run=1, on_conflict, key
  #   GET    /admin/database/backups          the newest backups
  #   POST   /admin/database/backups          take one now (format=plain|custom)
  #   GET    /admin/database/backups/:name    download one (checked against its checksum first)
  #   DELETE /admin/database/backups?keep=N[&older_than_days=D]
  class DatabaseController < ApplicationController
    include FastepostResponses
    include FastepostAdmin

    TRUE_VALUES = %w[1 true yes on].freeze
    EXPORT_FORMATS = { "csv" => "text/csv", "json" => "application/json", "ndjson" => "application/x-ndjson" }.freeze

    def stats
      render json: fastepost.db_stats(backups: backup_dir).to_h
    end

    # Streamed: the response body is an Enumerator that runs the export while the server sends
    # it, so rows reach the client as they are read and memory stays at one 64 kB batch. The
    # table is checked first (an export with limit 0 raises NotFoundError for an unknown one),
    # because once streaming has begun the status can no longer change.
    def export
      table = params.require(:table)
      format = params.fetch(:format, "csv")
      unless EXPORT_FORMATS.key?(format)
        return render(json: { error: "format must be one of #{EXPORT_FORMATS.keys.join(", ")}" }, status: :bad_request)
      end

      fastepost.export(table, format: format.to_sym, limit: 0)
      response.headers["Content-Type"] = EXPORT_FORMATS[format]
      response.headers["Content-Disposition"] =
        ActionDispatch::Http::ContentDisposition.format(disposition: "attachment", filename: "#{table}.#{format}")
      response.headers["Cache-Control"] = "no-cache" # Rack::ETag would otherwise buffer the body
      conn = fastepost
      self.response_body = Enumerator.new do |out|
        conn.export(table, format: format.to_sym, io: ChunkWriter.new(out))
      end
    end

    def import
      upload = params.require(:file)
      report = fastepost.import_csv(params.require(:table), upload.respond_to?(:path) ? upload.path : upload,
                                    dry_run: TRUE_VALUES.include?(params[:dry_run].to_s.downcase),
                                    on_conflict: params.fetch(:on_conflict, "error").to_sym,
                                    key: params[:key].presence)
      render json: report.to_h
    end

    def backups
      render json: { directory: FastepostDB.backup_dir, backups: backup_dir.list(limit: 20).map(&:to_h) }
    end

    def create_backup
      name = fastepost.backup(backup_dir, format: params.fetch(:format, "plain").to_sym)
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

    # The #write an export wants, handing each chunk to the response body as it comes.
    ChunkWriter = Struct.new(:out) do
      def write(chunk)
        out << chunk
        chunk.bytesize
      end
    end

    def backup_dir = Fastepost::BackupDir.new(FastepostDB.backup_dir)
  end
end
