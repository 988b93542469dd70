# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# rackup examples/ruby/config.ru  (with DATABASE_URL, ODOO_API_KEY, HUBSPOT_CLIENT_SECRET set)
require_relative "webhooks"
run FastepostExample::WebhookApp.from_env
