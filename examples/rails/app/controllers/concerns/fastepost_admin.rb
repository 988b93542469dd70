# frozen_string_literal: true

# Who may use the admin controllers. When the app has its own admin check
# (`authenticate_admin!`, e.g. from Devise or ApplicationController), that is used; otherwise a
# bearer token (`Authorization: Bearer $FASTEPOST_ADMIN_TOKEN`), refusing everyone while the
# variable is unset, so copying the controllers in never opens exports or backups to the world.
module FastepostAdmin
  extend ActiveSupport::Concern

  included do
    before_action :require_fastepost_admin
  end

  private

  def require_fastepost_admin
    return authenticate_admin! if respond_to?(:authenticate_admin!, true)

    expected = ENV["FASTEPOST_ADMIN_TOKEN"].to_s
    authenticate_or_request_with_http_token do |token, _options|
      !expected.empty? && ActiveSupport::SecurityUtils.secure_compare(token, expected)
    end
  end
end
