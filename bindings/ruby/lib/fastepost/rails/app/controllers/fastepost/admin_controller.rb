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

    # The URL the webhooks are mounted at, for the set-up URLs the dashboard shows.
    def fastepost_base_url = request.base_url + request.script_name.to_s
  end
end
