#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pull what changed in Odoo since the last run, for cron or a systemd timer: the reconciliation
that catches every delivery Odoo's webhook lost (docs/odoo-sync.md).

    ODOO_URL=https://example.odoo.com ODOO_DATABASE=example \\
    ODOO_API_KEY_FILE=/etc/fastepost/odoo-api-key DATABASE_URL=postgres:///app \\
        python3 odoo_pull.py [--models res.partner,crm.lead] [--detect-deletions] [--full]

The API key comes from the file --api-key-file / $ODOO_API_KEY_FILE names, else from
$ODOO_API_KEY; never from the command line (where every local user can read it with ps). It is
handed to `fastepost odoo pull` on its standard input, so it is never in a file of ours, an
argument, a log line or a message either.

Prints one line of counts ("odoo pull: fetched 25, created 3, updated 1, ..."), or with --json
the CLI's JSON. Exit status: 0 pulled, every record synced; 3 pulled, but some records were
not applied (failed, conflicts included, such as another contact with the same email: their
events say why, `fastepost events list --source odoo`); 1 the pull failed (Odoo refused the
key, unreachable, timeout, database error; what was committed stays and the next run resumes
there); 2 bad usage or configuration (no key, no URL). Cron mails any output of a failing
run; pass --quiet to print only failures.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_RECORDS_FAILED = 0, 1, 2, 3
# The outcomes the CLI counts, in the order it prints them.
OUTCOMES = ("created", "updated", "unchanged", "stale", "ignored", "conflict", "duplicate", "failed", "deleted")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Pull the records changed in Odoo and sync them.")
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
    p.add_argument("--timeout", type=int, default=3600,
                   help="seconds the whole pull may take before it is stopped (default 3600)")
    p.add_argument("--fastepost", default=os.environ.get("FASTEPOST_CLI") or shutil.which("fastepost"),
                   help="the fastepost command (default $FASTEPOST_CLI, else from PATH)")
    p.add_argument("--json", action="store_true", help="print the CLI's JSON counts")
    p.add_argument("--quiet", action="store_true", help="print nothing when every record synced")
    args = p.parse_args(argv)
    if not args.url:
        p.error("no Odoo URL: give --url or set ODOO_URL")
    if not args.fastepost:
        p.error("the fastepost command is not on PATH: give --fastepost or set FASTEPOST_CLI")
    if args.timeout < 1:
        p.error("--timeout must be at least 1 second")
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


def command(args: argparse.Namespace) -> List[str]:
    # The key file is our standard input: the key travels through a pipe, not argv or disk.
    cmd = [args.fastepost, "--quiet", "odoo", "pull", "--url", args.url, "--api-key-file", "/dev/stdin",
           "--protocol", args.protocol, "--json"]
    for option, value in (("--database", args.database), ("--user", args.user), ("--models", args.models)):
        if value:
            cmd += [option, value]
    if args.detect_deletions:
        cmd.append("--detect-deletions")
    if args.full:
        cmd.append("--full")
    return cmd


def summary(counts: Dict[str, object]) -> str:
    parts = [f"fetched {counts.get('fetched', 0)}"] + [f"{k} {counts.get(k, 0)}" for k in OUTCOMES]
    cursors = counts.get("cursors") or {}
    moved = ", ".join(f"{m} {c}" for m, c in cursors.items()) if isinstance(cursors, dict) else ""
    return "odoo pull: " + ", ".join(parts) + (f"; cursor {moved}" if moved else "")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    key = read_key(args)
    try:
        run = subprocess.run(command(args), input=key + "\n", capture_output=True, text=True,
                             timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print(f"odoo_pull: stopped after {args.timeout} s (the next run resumes at the last committed page)",
              file=sys.stderr)
        return EXIT_FAILED
    except OSError as e:
        print(f"odoo_pull: cannot run {args.fastepost}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if run.returncode != 0:
        # The CLI's message says what failed (never the key); 2 is its usage error.
        sys.stderr.write(run.stderr)
        return EXIT_USAGE if run.returncode == 2 else EXIT_FAILED
    try:
        counts = json.loads(run.stdout)
    except ValueError:
        print(f"odoo_pull: unexpected output from {args.fastepost}: {run.stdout[:200]!r}", file=sys.stderr)
        return EXIT_FAILED
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
