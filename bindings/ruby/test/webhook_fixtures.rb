# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# One request per CRM source that verifies and creates one customer, for the tests of
# Connection#webhook_process and of the HTTP examples (examples/ruby, examples/rails). odoo and
# hubspot are built here (HubSpot's signature holds the current time); the other sources come
# from tests/fixtures/<source>/ as their adapters left them: config.json, ok.<json|xml|form>,
# ok.headers ("Name: value" lines), ok.query (optional "k=v" lines) and ok.expect (the crm_id).
# The same rules as bindings/python/tests/webhook_fixtures.py.
require "json"
require "fastepost"

module WebhookFixtures
  ROOT = File.expand_path("../../..", __dir__)
  DIR = File.join(ROOT, "tests", "fixtures")
  SOURCES = %w[odoo hubspot pipedrive monday salesforce zoho].freeze
  BASE_URL = "https://app.example.com"
  ODOO_KEY = "odoo-generic-test-key"
  HUBSPOT_SECRET = "hubspot-generic-test-secret"
  # Where each section keeps its credentials (monday.com without require_jwt has none).
  SECRETS = { "odoo" => %w[api_keys], "hubspot" => %w[client_secrets], "pipedrive" => %w[basic_auth],
              "monday" => %w[signing_secrets], "salesforce" => %w[organization_ids],
              "zoho" => %w[channels workflow_tokens] }.freeze

  Request = Struct.new(:source, :config, :body, :headers, :query, :expect, :url, keyword_init: true) do
    def path = "/api/v1/integrations/#{source}#{query.empty? ? "" : "?#{query}"}"

    # The config with every credential of the source changed; nil when it has none.
    def wrong_config
      section = JSON.parse(JSON.generate(config.fetch(source)))
      return nil if source == "monday" && !section["require_jwt"]

      SECRETS.fetch(source).each { |k| section[k] = WebhookFixtures.mangle(section[k]) if section.key?(k) }
      { source => section }
    end
  end

  module_function

  def mangle(value)
    case value
    when Array then value.map { |v| mangle(v) }
    when Hash then value.to_h { |k, v| [k, k == "channel_id" ? v : mangle(v)] }
    when String
      if [15, 18].include?(value.size) && value.match?(/\A[0-9A-Za-z]+\z/)
        value[0..-2] + (value[-1] == "9" ? "8" : "9") # another Salesforce org id
      else
        "wrong-#{value}"
      end
    else value
    end
  end

  def url_for(source, config, query)
    base = source == "monday" ? config.dig("monday", "url") : nil
    base ||= "#{BASE_URL}/api/v1/integrations/#{source}"
    query.empty? ? base : "#{base}?#{query}"
  end

  def odoo
    body = JSON.generate({ _model: "res.partner", _id: 4711, id: 4711, name: "Olga Odoo", email: "olga@example.com",
                           write_date: "2026-01-05 10:00:00" })
    config = { "odoo" => { "api_keys" => [ODOO_KEY] } }
    Request.new(source: "odoo", config: config, body: body, query: "", expect: "res.partner:4711",
                headers: { "Content-Type" => "application/json", "X-Odoo-Api-Key" => ODOO_KEY },
                url: url_for("odoo", config, ""))
  end

  # HubSpot signs the URL it sends to with the current time: sign for url.
  def hubspot(url: nil)
    now = (Time.now.to_f * 1000).to_i
    event = { subscriptionId: 7, portalId: 62_515, appId: 9, attemptNumber: 0, objectId: 5150, changeSource: "CRM" }
    body = JSON.generate([event.merge(eventId: 1001, occurredAt: now, subscriptionType: "contact.creation"),
                          event.merge(eventId: 1002, occurredAt: now + 1, subscriptionType: "contact.propertyChange",
                                      propertyName: "lastname", propertyValue: "Hubbard")])
    config = { "hubspot" => { "client_secrets" => [HUBSPOT_SECRET] } }
    url ||= url_for("hubspot", config, "")
    sig = Fastepost.hubspot_sign(secret: HUBSPOT_SECRET, method: "POST", uri: url, timestamp: now, body: body)
    Request.new(source: "hubspot", config: config, body: body, query: "", expect: "5150", url: url,
                headers: { "Content-Type" => "application/json", "X-HubSpot-Signature-v3" => sig,
                           "X-HubSpot-Request-Timestamp" => now.to_s })
  end

  def lines(path) = File.exist?(path) ? File.readlines(path, chomp: true).reject { |l| l.strip.empty? } : []

  # The request of tests/fixtures/<source>/, or nil when its adapter left none.
  def from_fixture(source)
    dir = File.join(DIR, source)
    bodies = Dir[File.join(dir, "ok.{json,xml,form}")]
    return nil unless bodies.size == 1 && File.exist?(File.join(dir, "config.json"))

    config = JSON.parse(File.read(File.join(dir, "config.json")))
    headers = lines(File.join(dir, "ok.headers")).to_h { |l| l.split(":", 2).map(&:strip) }
    query = lines(File.join(dir, "ok.query")).join("&")
    Request.new(source: source, config: config, body: File.binread(bodies.first), headers: headers, query: query,
                expect: lines(File.join(dir, "ok.expect")).first, url: url_for(source, config, query))
  end

  def ok_request(source, **kw)
    case source
    when "odoo" then odoo
    when "hubspot" then hubspot(**kw)
    else from_fixture(source)
    end
  end

  # [requests of the sources that have one, names of those that have none]
  def available
    SOURCES.map { |s| [s, ok_request(s)] }.partition { |_, r| r }.then { |h, m| [h.map(&:last), m.map(&:first)] }
  end

  # monday.com's URL verification: its config and a challenge body.
  def challenge
    req = from_fixture("monday")
    config = req ? req.config : { "monday" => { "signing_secrets" => ["s"], "require_jwt" => false, "url" => BASE_URL,
                                                "boards" => {} } }
    [config, '{"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}']
  end
end
