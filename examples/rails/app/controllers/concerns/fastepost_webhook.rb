# frozen_string_literal: true

# What the webhook controllers share: the body is read raw (at most FastepostDB::MAX_BODY + 1
# bytes, enough for the library to answer 413) and never parsed into `params`, so a webhook's
# customer data is neither held twice in memory nor written to the log as "Parameters:".
# FastepostDB::WebhookBodyLimit does the same in front of the whole stack for the paths it
# knows; this covers any other path routed here.
module FastepostWebhook
  extend ActiveSupport::Concern

  private

  # Runs before ActionController's instrumentation, which logs (and so parses) the parameters.
  def process_action(*)
    request.set_header("action_dispatch.request.request_parameters", ActiveSupport::HashWithIndifferentAccess.new)
    super
  end

  def raw_body
    io = request.body
    io.rewind if io.respond_to?(:rewind)
    (io.read(FastepostDB::MAX_BODY + 1) || +"").b
  end
end
