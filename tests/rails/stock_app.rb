# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# A stock Rails 6.1 application with Fastepost::Engine mounted, served by WEBrick or Puma as
# `rails server` would: the defaults of `rails new` (load_defaults 6.1, so forgery protection on in every
# ActionController::Base controller, the default middleware stack), an ApplicationController
# with nothing added, the engine's settings from the environment only (no initializer), and
# `mount Fastepost::Engine, at: "/api/v1/integrations"`. test_generated_app.rb makes a whole
# app with `rails new` and the generator; this one is small enough to boot once per test.
#
#   ruby stock_app.rb --port 0 --log FILE [--server webrick|puma]
#
# prints "listening on http://127.0.0.1:PORT" once it accepts requests. Configuration
# (DATABASE_URL, ODOO_API_KEY, FASTEPOST_ADMIN_TOKEN ...) comes from the environment.
require "optparse"
require "logger"

options = { port: 0, log: File::NULL, server: "webrick" }
OptionParser.new do |o|
  o.on("--port P", Integer) { |p| options[:port] = p }
  o.on("--log FILE") { |f| options[:log] = f }
  o.on("--server NAME", %w[webrick puma]) { |n| options[:server] = n }
end.parse!
OPTIONS = options.freeze

ENV["RAILS_ENV"] ||= "production"
verbose, $VERBOSE = $VERBOSE, nil # Rails 6.1 and its dependencies warn under -w; our files need not
require "rails"
require "action_controller/railtie"
require "fastepost" # Rails is loaded: the engine too (fastepost/rails)
if options[:server] == "puma"
  require "puma"
  require "puma/server"
else
  require "rack/handler/webrick"
end
$VERBOSE = verbose

class StockApp < Rails::Application
  config.load_defaults 6.1
  config.action_controller.default_protect_from_forgery = true # what load_defaults says; made explicit
  config.root = __dir__
  config.eager_load = false
  config.secret_key_base = "0" * 64
  config.logger = ActiveSupport::Logger.new(OPTIONS[:log])
  config.log_level = :debug # the most a log ever gets, "Parameters:" included
  config.hosts.clear
end

StockApp.initialize!
StockApp.routes.draw { mount Fastepost::Engine, at: "/api/v1/integrations" }

# In a FASTEPOST_SANITIZE build the test preloads the ASan runtime into this interpreter, but
# pg_dump, which backups spawn with the inherited environment, hangs under it (as psql does):
# the preload has done its work once the binding is loaded, so drop it.
ENV.delete("LD_PRELOAD")

# The host app's app/controllers/application_controller.rb as `rails new` writes it; with
# STOCK_APP_ADMIN_CHECK set, an app with its own admin check (a stand-in for Devise's: the
# header X-Stock-Admin: yes), which the engine's admin controllers are told to use.
class ApplicationController < ActionController::Base
  if ENV["STOCK_APP_ADMIN_CHECK"]
    def authenticate_admin!
      head :forbidden unless request.headers["X-Stock-Admin"] == "yes"
    end
  end
end
if ENV["STOCK_APP_ADMIN_CHECK"]
  StockApp.config.fastepost.admin_parent_controller = "ApplicationController"
  StockApp.config.fastepost.admin_authenticator = :authenticate_admin!
end

$stdout.sync = true
if OPTIONS[:server] == "puma"
  # Puma as `rails server` starts it (threads 0:5), without its launcher's config files.
  server = Puma::Server.new(StockApp, Puma::Events.new($stderr, $stderr), max_threads: 5)
  port = server.add_tcp_listener("127.0.0.1", OPTIONS[:port]).addr[1]
  thread = server.run
  puts "listening on http://127.0.0.1:#{port}"
  %w[INT TERM].each { |sig| trap(sig) { server.stop } }
  thread.join
else
  Rack::Handler::WEBrick.run(StockApp, Host: "127.0.0.1", Port: OPTIONS[:port], AccessLog: [],
                                       Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN)) do |server|
    puts "listening on http://127.0.0.1:#{server.config[:Port]}"
    %w[INT TERM].each { |sig| trap(sig) { server.shutdown } }
  end
end
