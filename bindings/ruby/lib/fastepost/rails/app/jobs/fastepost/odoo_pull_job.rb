# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # The Odoo reconciliation pull (every 5 minutes) (Engine::Operations.odoo_pull), e.g. from a scheduler:
  #   Fastepost::OdooPullJob.perform_later
  class OdooPullJob < ActiveJob::Base
    queue_as :default

    def perform(full: false)
      Fastepost::Engine::Operations.odoo_pull(full: full)
    end
  end
end
