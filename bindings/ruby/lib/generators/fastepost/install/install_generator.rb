# SPDX-License-Identifier: MIT
# frozen_string_literal: true

require "rails/generators"
require "rails/generators/migration"

module Fastepost
  module Generators
    # rails generate fastepost:install [--mount-path /api/v1/integrations]
    #
    # Writes config/initializers/fastepost.rb (config.fastepost, every setting commented), the
    # mount line in config/routes.rb and, with ActiveRecord, a migration that installs the
    # library's schema through the binding (Connection#schema_install: the library's own
    # numbered migrations, idempotent). Running it again changes nothing already there.
    class InstallGenerator < ::Rails::Generators::Base
      include ::Rails::Generators::Migration

      source_root File.expand_path("templates", __dir__)
      class_option :mount_path, type: :string, default: "/api/v1/integrations",
                                desc: "Where the engine's routes go (the CRMs call <mount_path>/<source>)"

      def self.next_migration_number(_dirname) = Time.now.utc.strftime("%Y%m%d%H%M%S")

      def create_initializer
        template "initializer.rb.tt", "config/initializers/fastepost.rb"
      end

      def mount_engine
        line = %(mount Fastepost::Engine, at: "#{mount_path}")
        routes = File.join(destination_root, "config", "routes.rb")
        return say_status(:identical, "config/routes.rb (#{line})", :blue) if File.exist?(routes) && File.read(routes).include?("Fastepost::Engine")

        route line
      end

      def create_schema_migration
        return say_status(:skip, "no ActiveRecord: run `fastepost schema install` instead of a migration", :yellow) unless defined?(::ActiveRecord)

        migration_template "migration.rb.tt", "db/migrate/install_fastepost.rb"
      end

      private

      def migration_version = "[#{::ActiveRecord::Migration.current_version}]"

      def mount_path = "/#{options[:mount_path].to_s.delete_prefix("/").chomp("/")}"
    end
  end
end
