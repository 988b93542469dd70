# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # Push local changes of Odoo-linked customers back to Odoo (Engine::Operations.odoo_push),
  # e.g. every few minutes from a scheduler, after the pull:
  #   Fastepost::OdooPushJob.perform_later
  class OdooPushJob < ActiveJob::Base
    queue_as :default

    def perform(prefer: "remote", limit: 0)
      Fastepost::Engine::Operations.odoo_push(prefer: prefer, limit: limit)
    end
  end
end
