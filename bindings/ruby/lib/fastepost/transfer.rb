# frozen_string_literal: true

# Export and import (docs/transfer.md): Connection#export, #export_all, #import_csv and their
# results.
module Fastepost
  # One rejected value or row of an import: line in the file (1 = header; 0 when no single
  # row is concerned), column ("" for the whole row), value (a short preview) and reason.
  ImportRowError = Struct.new(:line, :column, :value, :reason, keyword_init: true)

  # The outcome of Connection#import_csv. rows_written is 0 in a dry run and after any failure;
  # error_total is a lower bound when errors_complete is false; errors lists the first
  # max_errors ImportRowError.
  ImportReport = Struct.new(:rows_read, :rows_inserted, :rows_updated, :rows_skipped, :rows_written,
                            :bytes_read, :dry_run, :error_total, :errors_complete, :errors,
                            keyword_init: true) do
    include DeepHash
    def ok? = error_total.zero?
    def dry_run? = dry_run

    def self.from(h) = new(**h, errors: h[:errors].map { |e| ImportRowError.new(**e) })
  end

  class Connection
    # The export and import methods of Connection (included there: they use its
    # #synchronize and @conn).
    module TransferMethods
      CONFLICT = { error: Core::CONFLICT_ERROR, skip: Core::CONFLICT_SKIP, update: Core::CONFLICT_UPDATE }.freeze

      # Export a table as format (:csv, :json, :ndjson or :sql; :sql without a table dumps the
      # whole database with pg_dump). See docs/transfer.md.
      #
      #   io:       anything with #write (an IO, StringIO ...) gets the output in pieces
      #   path:     write a file instead (mode 0600, removed on failure)
      #             with neither, the output is returned as a UTF-8 String
      #   columns:  column names, in output order (default: all)
      #   where:    filters combined with AND: [column, op, value] (op "=", "!=", "<", "<=", ">",
      #             ">=", "like", "ilike"), [column, :is_null], [column, :not_null], or text such
      #             as "email ilike %@x.de"; a Hash {column => value} means equality
      #   order:    a column or an Array of them; "-id" or [:id, :desc] (inside the Array)
      #             descending: order: "-id", order: [[:id, :desc], :name]
      #   limit:    at most this many rows;  schemas: allow tables only from these schemas
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
          synchronize { Core.export_to_file(@conn, opts, path.to_s, progress) }
          return nil
        end
        out = io ? nil : String.new(encoding: Encoding::UTF_8)
        write = io ? ->(chunk) { io.write(chunk) } : ->(chunk) { out << chunk }
        synchronize { Core.export_run(@conn, opts, write, progress) }
        out
      end

      # Export every table of the allowed schemas into dir (created, mode 0700), one file per
      # table (customers.csv; schema.table.csv outside public), as :csv, :json or :ndjson.
      # Returns the number of files written.
      def export_all(dir, format: :csv, schemas: nil, &progress)
        opts = export_options(nil, format, nil, nil, nil, nil, schemas)
        synchronize { Core.export_all(@conn, opts, dir.to_s, progress) }
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
        mode = CONFLICT.fetch(on_conflict.to_sym) do
          raise ArgumentError, "on_conflict must be one of #{CONFLICT.keys.inspect}, not #{on_conflict.inspect}"
        end
        # (A Pathname has #read too, but reads from the start on every call: it is a path.)
        path, read = if source.is_a?(String) || (defined?(Pathname) && source.is_a?(Pathname))
                       [source.to_s, nil]
                     elsif source.respond_to?(:read)
                       [nil, ->(size) { source.read(size) }]
                     else
                       raise TypeError, "import_csv: source must be a path or respond to #read, not #{source.class}"
                     end
        report = synchronize do
          Core.import_csv(@conn, table, path, read, dry_run ? 1 : 0, mode, key&.to_s, Integer(max_errors || 0),
                          Integer(max_field || 0), progress)
        end
        ImportReport.from(report)
      rescue Error => e
        e.instance_variable_set(:@report, ImportReport.from(e.report)) if e.report.is_a?(Hash)
        raise
      end

      private

      def export_options(table, format, columns, where, order, limit, schemas)
        opts = Core::ExportOptions.new
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

          Core.export_options_add_filter(opts, column.to_s, Core.filter_op_parse(op.to_s), value.first&.to_s)
        end
        (order.is_a?(Array) ? order : [order].compact).each do |key|
          column, descending = if key.is_a?(Array)
                                 [key[0].to_s, key[1].to_s.downcase.start_with?("desc")]
                               else
                                 key.to_s.start_with?("-") ? [key.to_s[1..], true] : [key.to_s, false]
                               end
          Core.export_options_add_order(opts, column, descending ? 1 : 0)
        end
        Core.export_options_set_limit(opts, Integer(limit)) if limit
        Array(schemas).each { |sch| Core.export_options_allow_schema(opts, sch.to_s) }
        opts
      end
    end
  end
end
