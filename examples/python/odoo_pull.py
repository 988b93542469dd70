#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pull what changed in Odoo since the last run, for cron or a systemd timer: the reconciliation
that catches every delivery Odoo's webhook lost (docs/odoo-sync.md).

    ODOO_URL=https://example.odoo.com ODOO_DATABASE=example \\
    ODOO_API_KEY_FILE=/etc/fastepost/odoo-api-key DATABASE_URL=postgres:///app \\
        python3 odoo_pull.py [--models res.partner,crm.lead] [--detect-deletions] [--full]

The API key comes from the file --api-key-file / $ODOO_API_KEY_FILE names, else from
$ODOO_API_KEY; never from the command line (where every local user can read it with ps). It is
handed to the library in memory (`Connection.odoo_pull`, the Python binding): it is never in a
file of ours, an argument, a child process, a log line or a message.

Prints one line of counts ("odoo pull: fetched 25, created 3, updated 1, ..."), or with --json
the counts as `fastepost odoo pull --json` prints them. Exit status: 0 pulled, every record
synced; 3 pulled, but some records were not applied (failed, conflicts included, such as another
contact with the same email: their events say why, `fastepost events list --source odoo`); 1 the
pull failed (Odoo refused the key, unreachable, timeout, database error; what was committed
stays and the next run resumes there); 2 bad usage or configuration (no key, no URL). Cron mails
any output of a failing run; pass --quiet to print only failures.
"""

import argparse
import datetime
import json
import os
import sys
from typing import Any, Dict, Optional, Sequence

import fastepost

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_RECORDS_FAILED = 0, 1, 2, 3
# The outcomes a pull counts, in the order `fastepost odoo pull` prints them.
OUTCOMES = ("created", "updated", "unchanged", "stale", "ignored", "conflict", "duplicate", "failed", "deleted")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    # No abbreviations: "--api-key SECRET" must be refused, not taken as --api-key-file (the
    # key would then be in argv and in the "cannot read" message).
    p = argparse.ArgumentParser(description="Pull the records changed in Odoo and sync them.",
                                allow_abbrev=False)
    p.add_argument("--url", default=os.environ.get("ODOO_URL"), help="Odoo server (default $ODOO_URL)")
    p.add_argument("--database", default=os.environ.get("ODOO_DATABASE"),
                   help="Odoo database (default $ODOO_DATABASE)")
    p.add_argument("--user", default=os.environ.get("ODOO_USER"),
                   help="the bot user's login, JSON-RPC only (default $ODOO_USER)")
    p.add_argument("--api-key-file", default=os.environ.get("ODOO_API_KEY_FILE"),
                   help="file whose first line is the API key (default $ODOO_API_KEY_FILE, "
                        "else the key is $ODOO_API_KEY)")
    p.add_argument("--protocol", choices=("auto", "json2", "jsonrpc"), default="auto")
    p.add_argument("--models", default=None, help="res.partner (default), crm.lead, comma-separated")
    p.add_argument("--detect-deletions", action="store_true",
                   help="also make customers whose Odoo record is gone inactive")
    p.add_argument("--full", action="store_true", help="pull everything (an initial import)")
    p.add_argument("--timeout", type=float, default=60,
                   help="seconds each request to Odoo may take (default 60)")
    p.add_argument("--dsn", default=os.environ.get("DATABASE_URL", ""),
                   help="libpq connection string or URL (default: $DATABASE_URL, else PG* variables)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--quiet", action="store_true", help="print nothing when every record synced")
    args = p.parse_args(argv)
    if not args.url:
        p.error("no Odoo URL: give --url or set ODOO_URL")
    if not 0 < args.timeout <= 3600:
        p.error("--timeout must be more than 0 and at most 3600 seconds")
    return args


def read_key(args: argparse.Namespace) -> str:
    """The API key, failing closed: a missing, unreadable or empty key is a usage error, never
    an attempt without a key. The message names the file, never its content."""
    if args.api_key_file:
        try:
            with open(args.api_key_file, encoding="utf-8") as f:
                key = f.readline().strip()
        except OSError as e:
            raise SystemExit(usage_error(f"cannot read the API key file {args.api_key_file}: {e.strerror}"))
        if not key:
            raise SystemExit(usage_error(f"the API key file {args.api_key_file} is empty"))
        return key
    key = os.environ.get("ODOO_API_KEY", "").strip()
    if not key:
        raise SystemExit(usage_error("no API key: set ODOO_API_KEY_FILE (or --api-key-file) or ODOO_API_KEY"))
    return key


def usage_error(message: str) -> int:
    print(f"odoo_pull: {message}", file=sys.stderr)
    return EXIT_USAGE


def iso_cursor(us: Optional[int]) -> Optional[str]:
    """A cursor (microseconds since the epoch, UTC) as the CLI prints it."""
    if us is None:
        return None
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"


def counts_of(report: fastepost.OdooPullReport) -> Dict[str, Any]:
    counts = report.to_dict()
    counts["cursors"] = {m: iso_cursor(c) for m, c in (counts.get("cursors") or {}).items()}
    return counts


def summary(counts: Dict[str, Any]) -> str:
    parts = [f"fetched {counts.get('fetched', 0)}"] + [f"{k} {counts.get(k, 0)}" for k in OUTCOMES]
    moved = ", ".join(f"{m} {c}" for m, c in counts["cursors"].items() if c)
    return "odoo pull: " + ", ".join(parts) + (f"; cursor {moved}" if moved else "")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    key = read_key(args)
    try:
        with fastepost.connect(args.dsn) as conn:
            report = conn.odoo_pull(args.url, key, database=args.database, user=args.user,
                                    protocol=args.protocol, models=args.models or "res.partner",
                                    full=args.full, detect_deletions=args.detect_deletions,
                                    timeout=args.timeout)
    except fastepost.InvalidError as e:
        return usage_error(e.message)
    except fastepost.Error as e:
        # The library's message says what failed, never the key; what was committed stays.
        print(f"odoo_pull: {type(e).__name__}: {e.message}", file=sys.stderr)
        return EXIT_FAILED
    counts = counts_of(report)
    # `failed` counts every record not applied, conflicts included (another customer has that
    # email): someone must look.
    failed = int(counts.get("failed", 0))
    if args.json:
        print(json.dumps(counts))
    elif failed or not args.quiet:
        print(summary(counts))
    if failed:
        print(f"odoo_pull: {failed} record(s) not synced: see `fastepost events list --source odoo`",
              file=sys.stderr)
        return EXIT_RECORDS_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
