# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Serve the webhook app with WEBrick: ruby server.rb [--host 127.0.0.1] [--port 9292]
# --port 0 picks a free port; the line "listening on http://HOST:PORT" says which.
require "optparse"
require "webrick"
require "rack/handler/webrick"
require_relative "webhooks"

host = "127.0.0.1"
port = 9292
OptionParser.new do |o|
  o.banner = "usage: ruby server.rb [--host H] [--port P]"
  o.on("--host H") { |h| host = h }
  o.on("--port P", Integer) { |p| port = p }
end.parse!

app = FastepostExample::WebhookApp.from_env
$stdout.sync = true
Rack::Handler::WEBrick.run(app, Host: host, Port: port, AccessLog: [],
                                Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN)) do |server|
  puts "listening on http://#{host}:#{server.config[:Port]}"
  %w[INT TERM].each { |sig| trap(sig) { server.shutdown } }
end
