-- SPDX-License-Identifier: MIT
-- The rows one Odoo delivery writes (a new partner with a note), and nothing else: the customer,
-- the remark, the event row with its jsonb payload, the three counters; no lock, no lookup, no
-- function. Run prepared (-M prepared): one round trip, no planning. bench/delivery_ladder.sh runs
-- it beside the floor (bench/pgbench_upsert.sql) as the bound any implementation of the path
-- meets. The counter and outbox triggers skip these writes, as they skip the sync core's
-- (fastepost.counted, fastepost.origin). pgbench takes ":name" in a string for a variable, so
-- the keys use "-" where the library writes ":".
\set id random(1, 1000000000)
\startpipeline
BEGIN;
SELECT pg_catalog.set_config('fastepost.counted', 'self', true), pg_catalog.set_config('fastepost.origin', 'sync', true);
INSERT INTO customers (name, email, phone, active, crm_source, crm_id, crm_updated_at, last_synced_at, created_at, updated_at) VALUES ('Partner ' || :id::bigint, 'rows' || :id::bigint || '@bench.example', '+49 30 ' || :id::bigint, true, 'odoo', 'res.partner:' || :id::bigint, '2026-11-27 10:00:00', now(), now(), now());
INSERT INTO remarks (customer_id, body, source, external_key, created_at, updated_at) VALUES (currval('customers_id_seq'), '<p>Bench</p>', 'odoo', 'odoo-res.partner-' || :id::bigint || '-note', now(), now()) ON CONFLICT (external_key) WHERE external_key IS NOT NULL DO NOTHING;
INSERT INTO integration_events (source, event_type, status, outcome, external_id, idempotency_key, payload, customer_id, attempts, processed_at, created_at, updated_at) VALUES ('odoo', 'res.partner', 'success', 'created', 'res.partner:' || :id::bigint, 'odoo-res.partner-' || :id::bigint || '-2026-11-27 10.00.00', ('{"_id": ' || :id::bigint || ', "_model": "res.partner", "name": "Partner ' || :id::bigint || '", "email": "rows' || :id::bigint || '@bench.example", "phone": "+49 30 ' || :id::bigint || '", "comment": "<p>Bench</p>", "write_date": "2026-11-27 10:00:00"}')::jsonb, currval('customers_id_seq'), 1, now(), now(), now());
INSERT INTO fastepost_event_counts AS c (source, status, slot, n) VALUES ('odoo', 'success', 0, 1) ON CONFLICT (source, status, slot) DO UPDATE SET n = c.n + excluded.n;
INSERT INTO fastepost_event_hourly_counts AS c (source, hour, status, slot, n) VALUES ('odoo', date_trunc('hour', now()), 'success', 0, 1) ON CONFLICT (source, hour, status, slot) DO UPDATE SET n = c.n + excluded.n;
INSERT INTO fastepost_row_counts AS c (counter, slot, n) VALUES ('customers', 0, 1), ('customers_crm_synced', 0, 1) ON CONFLICT (counter, slot) DO UPDATE SET n = c.n + excluded.n;
COMMIT;
\endpipeline
