# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # Process again the events that failed transiently and are due (Engine::Operations.events_retry), e.g. from a scheduler:
  #   Fastepost::EventsRetryJob.perform_later
  class EventsRetryJob < ActiveJob::Base
    queue_as :default

    def perform(limit: 100)
      Fastepost::Engine::Operations.events_retry(limit: limit)
    end
  end
end
