# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "json"
require "stringio"

module Fastepost
  class Engine < ::Rails::Engine
    # First in the middleware stack (the engine inserts it): a webhook body over MAX_BODY is
    # answered 413 here, from its Content-Length alone when it declares one, else after reading
    # MAX_BODY + 1 bytes, so no later middleware, parameter parser or logger ever sees it. A
    # body within the limit is handed on as the bytes read, with the request parameters already
    # set (to none): Rails then never parses a webhook body into `params`, and so never writes
    # customers' data to the log as "Parameters:". The webhook paths are those under
    # config.fastepost.mount_path; WebhookBody does the same in the controller for any mount.
    class BodyLimit
      # One byte over the library's 1 MiB limit: enough for it to answer 413 itself.
      MAX_BODY = 1024 * 1024

      def initialize(app, limit: MAX_BODY)
        @app = app
        @limit = limit
      end

      def call(env)
        path = webhook_path(env["PATH_INFO"])
        return @app.call(env) unless env["REQUEST_METHOD"] == "POST" && path

        declared = env["CONTENT_LENGTH"].to_s
        return too_big(path) if declared.match?(/\A\d+\z/) && declared.to_i > @limit

        body = (env["rack.input"]&.read(@limit + 1) || +"").b
        return too_big(path) if body.bytesize > @limit

        env["rack.input"] = StringIO.new(body)
        env["CONTENT_LENGTH"] = body.bytesize.to_s
        env["action_dispatch.request.request_parameters"] = ActiveSupport::HashWithIndifferentAccess.new
        @app.call(env)
      end

      private

      # The router matches /odoo, /odoo/, //odoo and /odoo.json alike; so does this. Returns the
      # webhook path (built from the mount path and a source, never the request's own text) or nil.
      def webhook_path(path_info)
        path = path_info.to_s.squeeze("/").chomp("/").sub(%r{\.[^./]*\z}, "")
        mount = ::Rails.application.config.fastepost.mount_path.to_s.chomp("/")
        source = path.delete_prefix("#{mount}/") if path.start_with?("#{mount}/")
        "#{mount}/#{source}" if source && Fastepost.webhook_sources.include?(source)
      end

      def too_big(path)
        ::Rails.logger&.warn("Refused a webhook body over #{@limit} bytes (413): POST #{path}")
        body = JSON.generate(http_status: 413, error: "TooBigError",
                             message: "request body over #{@limit} bytes, the limit for a webhook")
        [413, { "Content-Type" => "application/json", "Content-Length" => body.bytesize.to_s }, [body]]
      end
    end
  end
end
