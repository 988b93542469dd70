# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# libfastepost for Ruby: CRM webhook ingestion and PostgreSQL data tools for Fast Epost.
#
#   require "fastepost"
#
#   Fastepost::Connection.open("postgresql:///fastepost") do |conn|
#     conn.schema_install            # => number of migrations applied
#     conn.schema_version.to_h       # => {current: 1, latest: 1}
#   end
#
# Every failure raises a subclass of Fastepost::Error named after the error code
# (InvalidError, ConnectionError, DatabaseError ...), with #code, #sqlstate and #message.
# Strings come back tagged UTF-8. Calls that wait on the database release the GVL, so other
# threads keep running. A Connection may be shared between threads: its calls are serialised.
#
# This library is the hand-written layer over Fastepost::Core, the SWIG extension generated from
# bindings/fastepost.i, which mirrors the C API one to one. See docs/bindings.md.
#
# The library is split by concern, each file with the Connection methods of its concern (one
# module each, included into Connection in connection.rb): fastepost/errors.rb (the exception
# classes), transfer.rb (export and import), webhooks.rb (the webhook and event-log methods;
# it requires what they take and return: hubspot.rb, odoo_webhook.rb, webhook_entry.rb for
# every CRM through one entry, events.rb for the results), odoo_sync.rb (the Odoo pull and push),
# spool.rb (the delivery spool), backup.rb, stats.rb (CRM and database figures, the report),
# connection.rb (connecting, the schema) and pool.rb. This file holds what they share and
# requires them; require "fastepost", not the pieces.
require "monitor"
require "fastepost/core"

module Fastepost
  # The version of the headers this binding was compiled against.
  VERSION = Core::VERSION

  # The version of the libfastepost actually loaded, e.g. "1.0.0".
  def self.version
    Core.libversion[0]
  end

  # The loaded library's version as [major, minor, patch].
  def self.version_info
    Core.libversion[1, 3]
  end

  if version_info[0] != Core::VERSION_MAJOR
    raise LoadError, "fastepost: compiled for libfastepost #{VERSION} but loaded #{version}"
  end

  # Results with nested results: #to_h converts them too.
  module DeepHash
    def to_h
      super.transform_values { |v| DeepHash.plain(v) }
    end

    def self.plain(value)
      case value
      when Struct then value.to_h
      when Array then value.map { |v| plain(v) }
      else value
      end
    end
  end
end

# In this order: a piece needs only what is above it when it is loaded (connection.rb
# includes the method modules of the concerns).
require "fastepost/errors"
require "fastepost/transfer"
require "fastepost/webhooks"
require "fastepost/odoo_sync"
require "fastepost/spool"
require "fastepost/backup"
require "fastepost/stats"
require "fastepost/connection"
require "fastepost/pool"
# In a Rails application (Bundler.require runs after `require "rails"`): the engine, its
# configuration, generator, tasks and jobs (docs/rails.md).
require "fastepost/rails" if defined?(::Rails::Engine)
