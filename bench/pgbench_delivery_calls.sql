-- SPDX-License-Identifier: MIT
-- One Odoo delivery (a new partner with a note) as the library sends it, replayed by pgbench:
-- BEGIN, the settings, the lock-and-lookup call and the match call in one round trip, then the
-- apply call and COMMIT in a second (src/sync/process.c). bench/delivery_ladder.sh runs it
-- unnamed (-M extended) and prepared (-M prepared), and in one round trip (the middle
-- \endpipeline \startpipeline pair removed). The keys use "/" where the library writes ":"
-- (pgbench takes ":name" in a string for a variable); the shapes and sizes are the same.
\set id random(1, 1000000000)
\startpipeline
BEGIN;
SELECT pg_catalog.set_config('statement_timeout', '30000', true), pg_catalog.set_config('lock_timeout', '5000', true), pg_catalog.set_config('TimeZone', 'UTC', true), pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true), pg_catalog.set_config('enable_seqscan', 'off', true), pg_catalog.set_config('fastepost.origin', 'sync', true), pg_catalog.pg_backend_pid();
SELECT * FROM fastepost_sync_lock_seen('{"event/odoo/' || :id::bigint || '","crm/odoo/res.partner/' || :id::bigint || '","email/p' || :id::bigint || '@example.com","phone/+49 30 ' || :id::bigint || '"}', 'odoo', 'k' || :id::bigint);
SELECT * FROM fastepost_sync_match(NULL, 'res.partner/' || :id::bigint, 'p' || :id::bigint || '@example.com', NULL, 'odoo', '2026-11-27 10:00:00.000000');
\endpipeline
\startpipeline
SELECT * FROM fastepost_sync_apply('0', 'odoo', 'res.partner', 'res.partner/' || :id::bigint, 'k' || :id::bigint, '{"_id": ' || :id::bigint || ', "_model": "res.partner", "comment": "<p>Bench</p>", "email": "p' || :id::bigint || '@example.com", "name": "Partner ' || :id::bigint || '", "phone": "+49 30 ' || :id::bigint || '", "write_date": "2026-11-27 10.00.00"}', NULL, 'create', '0', 'Partner ' || :id::bigint, 'p' || :id::bigint || '@example.com', '+49 30 ' || :id::bigint, NULL, NULL, NULL, 'odoo', 'res.partner/' || :id::bigint, '2026-11-27 10:00:00.000000', 'false', NULL, 'false', 'Bench', 'odoo/res.partner/' || :id::bigint || '/comment/a9d02610b4d96aadcbe3b91f5746a2183ff6ded79f8274aaf36a599504d78c98');
COMMIT;
\endpipeline
