# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "active_support/concern"
require "active_support/security_utils"

module Fastepost
  class Engine < ::Rails::Engine
    # Who may use the admin controllers (exports, imports, backups, the dashboard): nobody
    # unless the app says so (config.fastepost):
    #
    # - A request with `Authorization: Bearer <token>` is authenticated by that token alone: it
    #   must equal admin_token (FASTEPOST_ADMIN_TOKEN), compared in constant time; with no
    #   token configured every such request is refused. A browser never adds that header to a
    #   request another site makes it send, so forgery protection (which guards session
    #   cookies) is skipped for these requests and only for them: scripts POST and DELETE
    #   without a CSRF token, and get no 422.
    # - Any other request goes to admin_authenticator: a Symbol names a method of the parent
    #   controller (the app's `authenticate_admin!`: Devise, a session ...) that renders or
    #   redirects to refuse, with the app's forgery protection untouched; a Proc is called with
    #   the controller and allows when truthy. Without one: 401.
    #
    # The refusal is the same whatever was wrong, so it tells a caller nothing about the token.
    module AdminAuth
      extend ActiveSupport::Concern

      included do
        # raise: false: a parent without forgery protection has nothing to skip.
        skip_forgery_protection if: :fastepost_token_only?, raise: false if respond_to?(:skip_forgery_protection)
        before_action :require_fastepost_admin
      end

      private

      def fastepost_authenticator = Fastepost::Engine.settings.admin_authenticator

      # Without an authenticator these controllers take nothing but the token: no session, so
      # no forgery protection to keep.
      def fastepost_token_only? = fastepost_token_request? || fastepost_authenticator.nil?

      def fastepost_token_request?
        request.authorization.to_s.match?(/\ABearer\s/i)
      end

      def require_fastepost_admin
        authenticator = fastepost_authenticator
        if fastepost_token_request?
          return if fastepost_admin_token_valid?
        elsif authenticator.is_a?(Symbol) || authenticator.is_a?(String)
          # Devise's authenticate_admin! throws :warden or redirects; a plain one renders.
          send(authenticator)
          return
        elsif authenticator.respond_to?(:call)
          return if authenticator.call(self)
        end
        refuse_fastepost_admin unless performed?
      end

      def fastepost_admin_token_valid?
        expected = Fastepost::Engine.settings.resolved_admin_token
        presented = request.authorization.to_s.sub(/\ABearer\s+/i, "").strip
        !expected.empty? && ActiveSupport::SecurityUtils.secure_compare(presented, expected)
      end

      def refuse_fastepost_admin
        response.headers["WWW-Authenticate"] = 'Bearer realm="fastepost admin"'
        render json: { http_status: 401, error: "unauthorized",
                       message: "send Authorization: Bearer <the admin token>, or sign in" }, status: :unauthorized
      end
    end
  end
end
