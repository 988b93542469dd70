# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "active_support/concern"

module Fastepost
  class Engine < ::Rails::Engine
    # What every engine controller does with a libfastepost failure: answer the status the
    # library chose (401, 400, 409, 413, 503 ...; 500 otherwise) with a small JSON body.
    # Messages say what and where, never secrets or payloads, so they can go back to the caller.
    module Responses
      extend ActiveSupport::Concern

      included do
        rescue_from Fastepost::Error do |e|
          details = (e.report || e.result).to_h # what was logged or imported, when anything was
          status = fastepost_http_status(e)
          render json: details.merge(http_status: status, error: e.class.name.demodulize, message: e.message),
                 status: status
        end
      end

      private

      # A connection of the process's pool for the block; PoolTimeout (none free in time) is a
      # Fastepost::Error and so answered 503 above.
      def with_fastepost(&block) = Fastepost::Engine.with(&block)

      # The library's mapping is made for webhook senders (an unknown record is a server-side
      # problem there); for a person asking for a table or a backup by name it is a 404.
      def fastepost_http_status(error)
        return 404 if error.is_a?(Fastepost::NotFoundError)

        error.http_status || 500
      end
    end
  end
end
