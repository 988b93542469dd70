# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Who may use the admin controllers (exports, imports, backups, the dashboard).
#
# A request with `Authorization: Bearer <token>` is authenticated by that token alone: it must
# equal FASTEPOST_ADMIN_TOKEN (compared in constant time), and while the variable is unset or
# empty every such request is refused, so copying the controllers in never opens exports or
# backups to the world. A browser never adds that header to a request another site makes it
# send, so forgery protection, which guards session cookies, is skipped for these requests and
# only for them: scripts and cron jobs POST and DELETE without a CSRF token, and no 422.
#
# Any other request goes to the app's own admin check, `authenticate_admin!` (Devise, a
# session ...), with the app's forgery protection untouched; an app without one has only the
# token, no forgery protection to keep, and answers 401.
module FastepostAdmin
  extend ActiveSupport::Concern

  included do
    # raise: false: an ApplicationController without forgery protection has nothing to skip.
    skip_forgery_protection if: :fastepost_token_only?, raise: false
    before_action :require_fastepost_admin
  end

  private

  # Without the app's own admin check these controllers take nothing but the token, and a
  # request without it is refused (401) whatever else it carries; forgery protection has no
  # session to protect there.
  def fastepost_token_only?
    fastepost_token_request? || !respond_to?(:authenticate_admin!, true)
  end

  def fastepost_token_request?
    request.authorization.to_s.match?(ActionController::HttpAuthentication::Token::TOKEN_REGEX)
  end

  def require_fastepost_admin
    if fastepost_token_request?
      expected = ENV["FASTEPOST_ADMIN_TOKEN"].to_s
      authenticated = authenticate_with_http_token do |token, _options|
        !expected.empty? && ActiveSupport::SecurityUtils.secure_compare(token, expected)
      end
      return if authenticated
    elsif respond_to?(:authenticate_admin!, true)
      return authenticate_admin!
    end
    refuse_fastepost_admin
  end

  # The same answer whatever was wrong (no token, a wrong one, none configured), so that it
  # tells a caller nothing about the token.
  def refuse_fastepost_admin
    response.headers["WWW-Authenticate"] = 'Bearer realm="fastepost admin"'
    render json: { http_status: 401, error: "unauthorized",
                   message: "send Authorization: Bearer <FASTEPOST_ADMIN_TOKEN>" }, status: :unauthorized
  end
end
