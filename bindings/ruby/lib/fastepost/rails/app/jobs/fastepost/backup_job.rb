# SPDX-License-Identifier: MIT
# frozen_string_literal: true

module Fastepost
  # A backup into the engine's backup directory; its file name (Engine::Operations.backup), e.g. from a scheduler:
  #   Fastepost::BackupJob.perform_later(format: "custom")
  class BackupJob < ActiveJob::Base
    queue_as :default

    def perform(format: "plain")
      Fastepost::Engine::Operations.backup(format: format)
    end
  end
end
