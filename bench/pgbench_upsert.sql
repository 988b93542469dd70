\set id random(1, 1000000000)
INSERT INTO customers (crm_source, crm_id, name, email, last_synced_at)
VALUES ('pgbench', 'res.partner:' || :id, 'Contact ' || :id, 'pg' || :id || '@bench.example', now())
ON CONFLICT (crm_source, crm_id) WHERE crm_id IS NOT NULL
DO UPDATE SET name = EXCLUDED.name, last_synced_at = EXCLUDED.last_synced_at;
