# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # What the admin controllers share: the parent the app chose
  # (config.fastepost.admin_parent_controller, e.g. "ApplicationController" for its
  # authenticate_admin! and layout), the admin check (Engine::AdminAuth: nobody by default)
  # and the library's errors as JSON.
  class AdminController < Fastepost::Engine.settings.admin_parent_controller.to_s.constantize
    include Fastepost::Engine::Responses
    include Fastepost::Engine::AdminAuth

    private

    def backup_dir = Fastepost::Engine.backup_dir
  end
end
