# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# libfastepost in a Rails application (6.1 or later): a mountable engine with the webhook route
# of every CRM source, the admin database tools, the CRM dashboard and the Prometheus metrics;
# `config.fastepost` for its settings; `rails generate fastepost:install`; rake tasks and
# ActiveJob classes for backups, spool replay, event retry and pruning, and the Odoo pull.
#
#   # config/routes.rb
#   mount Fastepost::Engine, at: "/api/v1/integrations"
#
# `require "fastepost"` loads this file when Rails is already loaded (Bundler.require in
# config/application.rb does); see docs/rails.md.
require "fastepost"
require "rails"
require "fastepost/rails/engine"
