#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the C examples (examples/c, built against the shared library) on a fresh database of the
# throwaway server: schema install, an Odoo delivery (accepted, duplicate, wrong key), an
# export, a backup with pruning. Usage: c_examples.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
: "${FASTEPOST_TEST_DSN:?run through scripts/with-postgres}"
db="fpt_examples_$$"
psql -X -q -d "$FASTEPOST_TEST_DSN" -c "CREATE DATABASE $db"
work=$(mktemp -d)
trap 'psql -X -q -d "$FASTEPOST_TEST_DSN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"' EXIT
dsn="$FASTEPOST_TEST_DSN dbname=$db"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin/example_schema_install" "$dsn" | grep -q "schema version" || fail "schema_install"

body="$src/examples/data/odoo/01_partner_created.json"
out=$(ODOO_API_KEY=k HTTP_X_ODOO_API_KEY=k "$bin/example_odoo_ingest" "$dsn" <"$body") || fail "odoo_ingest: $out"
[[ "$out" == "HTTP 200 created "* ]] || fail "first delivery: $out"
out=$(ODOO_API_KEY=k HTTP_X_ODOO_API_KEY=k "$bin/example_odoo_ingest" "$dsn" <"$body") || fail "odoo_ingest again: $out"
[[ "$out" == "HTTP 200 duplicate "* ]] || fail "redelivery: $out"
out=$(ODOO_API_KEY=k HTTP_X_ODOO_API_KEY=wrong "$bin/example_odoo_ingest" "$dsn" <"$body") && fail "wrong key accepted"
[[ "$out" == "HTTP 401 "* ]] || fail "wrong key: $out"
out=$(ODOO_API_KEY=k env -u HTTP_X_ODOO_API_KEY "$bin/example_odoo_ingest" "$dsn" <"$body") && fail "missing key accepted"
[[ "$out" == "HTTP 401 "* ]] || fail "missing key: $out"
out=$(env -u ODOO_API_KEY HTTP_X_ODOO_API_KEY=k "$bin/example_odoo_ingest" "$dsn" <"$body") && fail "no key accepted"
[[ "$out" == "HTTP 401 "* ]] || fail "no configured key: $out"

csv=$("$bin/example_export_table" "$dsn" customers)
[[ $(printf '%s\n' "$csv" | head -n 1) == id,name,email,* ]] || fail "export header: $csv"
[[ $(printf '%s\n' "$csv" | wc -l) -eq 2 ]] || fail "export rows: $csv"
"$bin/example_export_table" "$dsn" "customers; drop table x" 2>/dev/null && fail "hostile table name"

for i in 1 2 3; do "$bin/example_backup_now" "$dsn" "$work/backups" 2 >"$work/out" || fail "backup $i"; sleep 1; done
grep -q "^pruned backup_" "$work/out" || fail "prune: $(cat "$work/out")"
[[ $(ls "$work/backups" | grep -c '^backup_.*\.dump$') -eq 2 ]] || fail "kept: $(ls "$work/backups")"
echo "c_examples: 1 passed, 0 failed"
