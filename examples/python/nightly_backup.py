#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Nightly backup: take a pg_dump backup of the database, verify it against its checksum, then
prune the directory to the newest N backups (and optionally those older than D days).

    DATABASE_URL=postgres:///app python3 nightly_backup.py --dir /var/backups/app --keep 14

Exit status 0 on success, 1 when a step failed (the message is on stderr), 2 for bad usage.
Run it from cron or a systemd timer (see examples/cron and examples/systemd for the CLI
equivalent).
"""

import argparse
import os
import sys
from typing import List, Optional

import fastepost


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Take a verified backup and prune old ones.")
    p.add_argument("--dir", required=True, help="backup directory (created 0700 if missing)")
    p.add_argument("--keep", type=int, required=True, help="how many of the newest backups to keep")
    p.add_argument("--older-than-days", type=int, default=None,
                   help="also remove backups older than this many days (the newest --keep stay)")
    p.add_argument("--format", choices=("plain", "custom"), default="plain",
                   help="plain SQL (.sql) or pg_dump's custom archive (.dump)")
    p.add_argument("--dsn", default=os.environ.get("DATABASE_URL", ""),
                   help="libpq connection string or URL (default: $DATABASE_URL, else PG* variables)")
    args = p.parse_args(argv)
    if args.keep < 1:
        p.error("--keep must be at least 1 (keep the backup just taken)")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        with fastepost.connect(args.dsn) as conn:
            name = conn.backup(dir=args.dir, format=args.format)
        backups = fastepost.BackupDir(args.dir)
        backups.verify(name)
        removed = backups.prune(keep=args.keep, older_than_days=args.older_than_days)
    except fastepost.Error as e:
        print(f"nightly_backup: {type(e).__name__}: {e.message}", file=sys.stderr)
        return 1
    print(f"backup {name} written and verified in {args.dir}")
    print(f"pruned {len(removed or [])} old backup(s), keeping the newest {args.keep}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
