# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# What processing a delivery did and the event log's rows (docs/events.md): the results of
# Connection#odoo_process, #hubspot_process, #events, #events_retry and #prune_events, and the
# HTTP status to answer.
module Fastepost
  # The HTTP status a webhook endpoint answers for a status code (0 -> 200, ParseError -> 400,
  # AuthError -> 401, ConflictError -> 409, TooBigError -> 413, ConnectionError/BusyError ->
  # 503, else 500).
  def self.status_http(code) = Core.status_http(Integer(code))

  # A limit for the library: 0 (or nil) means its default; a negative one is refused here.
  def self.limit_arg(limit)
    limit = Integer(limit || 0)
    raise InvalidError, "the limit must not be negative, not #{limit}" if limit.negative?

    limit
  end
  private_class_method :limit_arg

  # What processing one delivery did, with the keys and types of the CLI's --json
  # (docs/events.md): code (0 or the error code), status ("ok" or the error name,
  # "FASTEPOST_EPARSE" ...), http_status (answer this), outcome ("created", "updated",
  # "unchanged", "stale", "ignored", "conflict", "duplicate", "spooled"; nil when it failed
  # before a decision), the ids written (nil for none), warnings and error (the message, or
  # nil). An event of a batch also has index, event_type and object_id.
  EventResult = Struct.new(:code, :status, :http_status, :outcome, :event_id, :customer_id, :remark_id,
                           :task_id, :warnings, :error, :index, :event_type, :object_id, keyword_init: true) do
    def ok? = code.zero?

    # The event's type (an alias of event_type).
    def type = event_type

    def to_h
      h = super
      index.nil? ? h.except(:index, :event_type, :object_id) : h
    end
  end

  # What processing a request with several events did (a HubSpot batch, an Odoo batch):
  # status/code/http_status/error of the whole batch, count events of which failed failed, and
  # events (an EventResult each, with index, event_type and object_id). Enumerable over the
  # events; batch[i] is event i.
  EventBatch = Struct.new(:code, :status, :http_status, :count, :failed, :error, :events, keyword_init: true) do
    include DeepHash
    include Enumerable
    def ok? = code.zero?
    def each(&) = events.each(&)
    def size = events.size
    alias_method :length, :size
    def [](i) = i.is_a?(Integer) ? events[i] : super

    def self.from(h) = new(**h, events: h[:events].map { |e| EventResult.new(**e) })
  end

  # The former name of EventBatch.
  HubSpotBatch = EventBatch

  # One integration_events row, with the keys of `fastepost events list --json`: times in
  # microseconds since the epoch (UTC; nil for none), ids and texts nil for none.
  Event = Struct.new(:id, :source, :event_type, :status, :outcome, :external_id, :customer_id, :attempts,
                     :error, :created_at_us, :processed_at_us, :next_attempt_at_us, keyword_init: true)

  # What Connection#events_retry did (the keys of `fastepost events retry --json`).
  RetryReport = Struct.new(:status, :attempted, :succeeded, :failed, :dead, keyword_init: true)

  # What Connection#prune_events did (the keys of `fastepost events prune --json`): rows
  # deleted, batches committed, cutoff_us (older rows were deleted; microseconds since the
  # epoch, UTC), and the older_than_days and event_status asked for.
  PruneReport = Struct.new(:status, :deleted, :batches, :cutoff_us, :older_than_days, :event_status,
                           keyword_init: true)
end
