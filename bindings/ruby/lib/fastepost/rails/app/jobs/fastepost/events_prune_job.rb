# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # Delete old events (Engine::Operations.events_prune), e.g. from a scheduler:
  #   Fastepost::EventsPruneJob.perform_later(older_than_days: 90)
  class EventsPruneJob < ActiveJob::Base
    queue_as :default

    def perform(older_than_days: 30, status: "success")
      Fastepost::Engine::Operations.events_prune(older_than_days: older_than_days, status: status)
    end
  end
end
