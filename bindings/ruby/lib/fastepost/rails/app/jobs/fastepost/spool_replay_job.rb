# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # Replay the spool of deliveries kept while the database was down (Engine::Operations.spool_replay), e.g. from a scheduler:
  #   Fastepost::SpoolReplayJob.perform_later
  class SpoolReplayJob < ActiveJob::Base
    queue_as :default

    def perform(limit: 0)
      Fastepost::Engine::Operations.spool_replay(limit: limit)
    end
  end
end
