# SPDX-License-Identifier: MIT
"""Odoo single-delivery ingest through the Python binding (by hand, never in ctest).

    PYTHONPATH=<build>/bindings/python python3 bench/odoo_ingest_python.py DSN [EVENTS=2000]

Prints one line: deliveries per second for EVENTS distinct res.partner deliveries, one
transaction each, as a Rails-less Python host would send them (bench/odoo_ingest_python.sh runs
it side by side for two builds). Works with the API before issue 11 (no presented key) and
after it (the key is an argument of processing).
"""
import inspect
import json
import sys
import time

import fastepost

dsn = sys.argv[1]
events = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
tag = int(time.time() * 1000) % 1_000_000_000
bodies = [json.dumps({"_id": tag * 10_000 + i, "_model": "res.partner", "name": f"Partner {i}",
                      "email": f"p{tag}-{i}@example.com", "phone": f"+49 30 {i:07d}",
                      "comment": "<p>Bench</p>", "write_date": "2026-11-27 10:00:00"}).encode()
          for i in range(events)]

with fastepost.connect(dsn) as conn:
    keyed = "expected_keys" in inspect.signature(conn.odoo_process).parameters
    kwargs = {"api_key": "bench-key", "expected_keys": ["bench-key"]} if keyed else {}
    t0 = time.perf_counter()
    for b in bodies:
        r = conn.odoo_process(b, **kwargs)
        assert r.outcome == "created", r.outcome
    dt = time.perf_counter() - t0
print(f"{events / dt:.1f}")
