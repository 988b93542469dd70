# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Export and import (docs/transfer.md): Connection#export, #export_all, #import_csv and their
# results.
module Fastepost
  # One rejected value or row of an import: line in the file (1 = header; 0 when no single
  # row is concerned), column ("" for the whole row), value (a short preview) and reason.
  ImportRowError = Struct.new(:line, :column, :value, :reason, keyword_init: true)

  # The outcome of Connection#import_csv: the table as given, the row counts (rows_written is
  # 0 in a dry run and after any failure), error_total (a lower bound when errors_complete is
  # false) and errors, the first max_errors ImportRowError. to_h has the keys and types of
  # `fastepost import --json` (which adds status, and the error's code, http_status and error
  # on failure).
  ImportReport = Struct.new(:table, :dry_run, :rows_read, :rows_inserted, :rows_updated,
                            :rows_skipped, :rows_written, :bytes_read, :error_total,
                            :errors_complete, :errors, keyword_init: true) do
    include DeepHash
    def ok? = error_total.zero?
    def dry_run? = dry_run

    def self.from(h, table) = new(**h, table: table, errors: h[:errors].map { |e| ImportRowError.new(**e) })
  end

  # What Connection#export wrote into a file (path:): the format name, the output path, the
  # rows written (0 for :sql) and the file's size in bytes. to_h has the keys and types of
  # `fastepost export --output FILE --json` (which adds status).
  ExportResult = Struct.new(:format, :output, :rows, :bytes, keyword_init: true) do
    include DeepHash
  end

  class Connection
    # The export and import methods of Connection (included there: they use its
    # #synchronize and @conn).
    module TransferMethods
      CONFLICT = { error: Core::IMPORT_CONFLICT_ERROR, skip: Core::IMPORT_CONFLICT_SKIP,
                   update: Core::IMPORT_CONFLICT_UPDATE }.freeze

      # Export a table as format (:csv, :json, :ndjson or :sql; :sql without a table dumps the
      # whole database with pg_dump). See docs/transfer.md.
      #
      #   io:       anything with #write (an IO, StringIO ...) gets the output in pieces
      #   path:     write a file instead (mode 0600, replaced whole or not at all); returns an
      #             ExportResult
      #             with neither, the output is returned as a UTF-8 String
      #   columns:  column names, in output order (default: all)
      #   where:    filters combined with AND: [column, op, value] (op "=", "!=", "<", "<=", ">",
      #             ">=", "like", "ilike"), [column, :is_null], [column, :not_null], or text such
      #             as "email ilike %@x.de"; a Hash {column => value} means equality
      #   order:    a column or an Array of them; "-id" or [:id, :desc] (inside the Array)
      #             descending: order: "-id", order: [[:id, :desc], :name]
      #   limit:    at most this many rows (nil: all);  schemas: allow tables only from these
      #             schemas
      #   block:    progress, yielded (rows, bytes) every so often and at the end; returning
      #             false stops the export (CanceledError)
      #
      # Raises NotFoundError (unknown or disallowed table or column), InvalidError (a filter
      # value that does not fit its column ...). An exception (or break/throw) in io.write or the
      # block stops the export and propagates.
      def export(table = nil, format: :csv, io: nil, path: nil, columns: nil, where: nil, order: nil,
                 limit: nil, schemas: nil, &progress)
        opts = export_options(table, format, columns, where, order, limit, schemas)
        if path
          path = path.to_path if path.respond_to?(:to_path)
          raise TypeError, "path must be a String or Pathname, not #{path.class}" unless path.is_a?(String)

          rows = synchronize { Core.export_to_file(@conn, path, opts, progress) }
          return ExportResult.new(format: Core.export_format_name(Core.export_format_parse(format.to_s)), output: path, rows: rows, bytes: File.size(path))
        end
        raise TypeError, "io must respond to #write, not #{io.class}" if io && !io.respond_to?(:write)

        out = io ? nil : String.new(encoding: Encoding::UTF_8)
        write = io ? ->(chunk) { io.write(chunk) } : ->(chunk) { out << chunk }
        synchronize { Core.export_run(@conn, write, opts, progress) }
        out
      end

      # Export every table of the allowed schemas into dir (created, mode 0700), one file per
      # table (customers.csv; schema.table.csv outside public), as :csv, :json or :ndjson.
      # Returns the number of files written.
      def export_all(dir, format: :csv, schemas: nil, &progress)
        opts = export_options(nil, format, nil, nil, nil, nil, schemas)
        synchronize { Core.export_all(@conn, dir.to_s, opts, progress) }
      end

      # Import a CSV file (with a header line) into table, all or nothing, validating every value
      # first. See docs/transfer.md.
      #
      #   source        a path (String, Pathname) or an IO-like object with #read(size)
      #   dry_run:      do everything, database checks included, then roll back
      #   on_conflict:  :error (default), :skip (keep existing rows) or :update
      #   key:          the conflict key column for :skip / :update
      #   max_errors:   how many row errors the report lists (default 100)
      #   max_field:    the largest field in bytes (default 16 MiB); a larger one raises
      #                 TooBigError naming its line, before it is read whole
      #   block:        progress, yielded (rows, bytes); returning false stops and rolls back
      #
      # Returns an ImportReport. A failed import writes nothing and raises ParseError,
      # InvalidError, ConflictError, NotFoundError ... whose #report is the ImportReport with the
      # rejected rows. An exception in source.read or the block rolls back and propagates.
      def import_csv(table, source, dry_run: false, on_conflict: :error, key: nil, max_errors: nil, max_field: nil, &progress)
        check_type(:table, table, String, Symbol)
        check_type(:on_conflict, on_conflict, String, Symbol)
        check_type(:key, key, String, Symbol)
        check_type(:max_errors, max_errors, Integer)
        check_type(:max_field, max_field, Integer)
        mode = CONFLICT.fetch(on_conflict.to_sym) do
          raise ArgumentError, "on_conflict must be one of #{CONFLICT.keys.inspect}, not #{on_conflict.inspect}"
        end
        [[:max_errors, max_errors], [:max_field, max_field]].each do |name, value|
          raise ArgumentError, "#{name} must be 0 (the default) or more, not #{value}" if value&.negative?
        end
        # (A Pathname has #read too, but reads from the start on every call: it is a path.)
        path, read = if source.is_a?(String) || (defined?(Pathname) && source.is_a?(Pathname))
                       [source.to_s, nil]
                     elsif source.respond_to?(:read)
                       [nil, ->(size) { source.read(size) }]
                     else
                       raise TypeError, "import_csv: source must be a path or respond to #read, not #{source.class}"
                     end
        opts = Core::ImportOptions.new
        Core.import_options_set_dry_run(opts, dry_run ? 1 : 0)
        Core.import_options_set_conflict(opts, mode)
        Core.import_options_set_key(opts, key&.to_s)
        Core.import_options_set_max_errors(opts, max_errors || 0)
        Core.import_options_set_max_field(opts, max_field || 0)
        report = synchronize { Core.import_csv(@conn, table.to_s, path, read, opts, progress) }
        ImportReport.from(report, table.to_s)
      rescue Error => e
        e.instance_variable_set(:@report, ImportReport.from(e.report, table.to_s)) if e.report.is_a?(Hash)
        raise
      end

      private

      # TypeError (the language's error for a wrong argument type) unless value is nil or one
      # of the types.
      def check_type(name, value, *types)
        return if value.nil? || types.any? { |t| value.is_a?(t) }

        raise TypeError, "#{name} must be #{types.join(' or ')}, not #{value.class}"
      end

      def export_options(table, format, columns, where, order, limit, schemas)
        check_type(:table, table, String, Symbol)
        check_type(:format, format, String, Symbol)
        check_type(:limit, limit, Integer)
        raise ArgumentError, "limit must be a positive number of rows (nil: all), not #{limit}" if limit && limit <= 0

        opts = Core::ExportOptions.new
        # The library reads no environment: the sql format's pg_dump is FASTEPOST_PG_DUMP, else PATH's.
        Core.export_options_set_tool_path(opts, ENV.fetch("FASTEPOST_PG_DUMP", "")) # "": none
        Core.export_options_set_search_path(opts, ENV.fetch("PATH", ""))
        Core.export_options_set_table(opts, table&.to_s)
        Core.export_options_set_format(opts, Core.export_format_parse(format.to_s))
        Array(columns).each { |c| Core.export_options_add_column(opts, c.to_s) }
        filters = case where
                  when nil then []
                  when Hash then where.map { |c, v| [c, "=", v] }
                  when String then [where]
                  else where
                  end
        filters.each do |f|
          next Core.export_options_add_filter_expr(opts, f) if f.is_a?(String)

          column, op, *value = f
          raise ArgumentError, "a filter is [column, op, value] or [column, op], not #{f.inspect}" if value.size > 1

          Core.export_options_add_filter(opts, column.to_s, Core.export_filter_op_parse(op.to_s), value.first&.to_s)
        end
        (order.is_a?(Array) ? order : [order].compact).each do |key|
          column, descending = if key.is_a?(Array)
                                 [key[0].to_s, key[1].to_s.downcase.start_with?("desc")]
                               else
                                 key.to_s.start_with?("-") ? [key.to_s[1..], true] : [key.to_s, false]
                               end
          Core.export_options_add_order(opts, column, descending ? 1 : 0)
        end
        Core.export_options_set_limit(opts, limit) if limit
        Array(schemas).each { |sch| Core.export_options_add_schema(opts, sch.to_s) }
        opts
      end
    end
  end
end
