# SPDX-License-Identifier: MIT
"""Run a getting-started page (docs/getting-started/*.md) as a reader would copy and paste it,
so that the page cannot drift from what the project does.

    run_page.py PAGE --source-dir DIR --binary-dir DIR --cmake CMAKE [--python PYTHON]

The page marks what to run with an HTML comment on the line right before a fenced block
(Markdown renders the comment as nothing):

    <!-- test: run -->          the ```sh block is run (in order, in one bash session: an
                                `export` or `cd` carries on to the next block)
    <!-- test: file NAME -->    the block is the file NAME, written where the session is
    <!-- test: expect -->       a ```text block of lines that the previous run block's output
                                must contain, in that order (a line "..." is skipped)

A block without a marker (cloning, apt-get, configuring and building) is not run: the build
tree that runs this test stands for it. The session starts in a stand-in for the reader's clone
(every entry of the source tree linked, `build` linking the build tree), with HOME a new empty
directory and no DATABASE_URL, ODOO_API_KEY, PYTHONPATH or LD_LIBRARY_PATH: the page must set
what it uses. `python3` and `cmake` on PATH are the interpreter and cmake this build was
configured with. PostgreSQL is the throwaway server of scripts/with-postgres (PGHOST, PGUSER
from it); each `createdb NAME` of the page is dropped before and after. PORT is a free port
of 127.0.0.1, for a page that starts a server (`${PORT:-8000}`).

Exit status: 0 passed, 1 failed (the failing block, its output and what was expected are
printed), 77 skipped (no throwaway server: run through scripts/with-postgres).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!--\s*test:\s*(run|file|expect)\s*(\S*)\s*-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)\s*$")
SEPARATOR = "@@getting-started block {}@@"
TIMEOUT = 600  # seconds for the whole page (it installs, compiles and starts a server)


class Block:
    def __init__(self, kind, arg, lang, text, line):
        self.kind, self.arg, self.lang, self.text, self.line = kind, arg, lang, text, line


def parse(path):
    """The marked blocks of a page, in order. A marker not followed by a fence is an error:
    a typo must not silently leave a block untested."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = MARK.match(lines[i].strip())
        if not m:
            i += 1
            continue
        kind, arg = m.group(1), m.group(2)
        fence = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if not fence:
            raise SystemExit(f"{path}:{i + 1}: '<!-- test: {kind} -->' is not right before a fenced block")
        if kind == "file" and not re.fullmatch(r"[\w.-]+", arg):
            raise SystemExit(f"{path}:{i + 1}: test: file needs a plain file name, not {arg!r}")
        if kind == "run" and fence.group(2) not in ("sh", "bash", "shell"):
            raise SystemExit(f"{path}:{i + 1}: test: run marks a ```sh block, not ```{fence.group(2)}")
        end = i + 2
        while end < len(lines) and lines[end].strip() != fence.group(1):
            end += 1
        if end == len(lines):
            raise SystemExit(f"{path}:{i + 2}: the fenced block is not closed")
        blocks.append(Block(kind, arg, fence.group(2), "\n".join(lines[i + 2:end]) + "\n", i + 1))
        i = end + 1
    if not any(b.kind == "run" for b in blocks):
        raise SystemExit(f"{path}: no '<!-- test: run -->' block: nothing would be checked")
    return blocks


def script(blocks):
    """One bash script: each file block a quoted here-document, each run block as written,
    preceded by a separator line that splits the output per block."""
    out = ["set -euo pipefail"]
    for n, b in enumerate(blocks):
        if b.kind == "file":
            eof = "GETTING_STARTED_EOF"
            if eof in b.text:
                raise SystemExit(f"line {b.line}: the file block contains {eof}")
            out.append(f"cat >{b.arg} <<'{eof}'\n{b.text}{eof}")
        elif b.kind == "run":
            out.append(f"echo '{SEPARATOR.format(n)}'")
            out.append(b.text)
    out.append(f"echo '{SEPARATOR.format('end')}'")
    return "\n".join(out) + "\n"


def outputs(blocks, text):
    """The output of each run block (by block index), from the separators."""
    found, current, buf = {}, None, []
    for line in text.split("\n"):
        m = re.fullmatch(r"@@getting-started block (\w+)@@", line)
        if m:
            if current is not None:
                found[current] = "\n".join(buf)
            current, buf = (None if m.group(1) == "end" else int(m.group(1))), []
        else:
            buf.append(line)
    if current is not None:  # the failing block: it has no end
        found[current] = "\n".join(buf)
    return found


def check_expectations(blocks, out):
    """Every expect block against the output of the run block before it; a list of failures."""
    failures, last_run = [], None
    for n, b in enumerate(blocks):
        if b.kind == "run":
            last_run = n
        elif b.kind == "expect":
            if last_run is None:
                failures.append(f"line {b.line}: an expect block before any run block")
                continue
            got = [" ".join(line.split()) for line in out.get(last_run, "").split("\n")]
            pos = 0
            for want in b.text.strip("\n").split("\n"):
                want = " ".join(want.split())
                if not want or want == "...":
                    continue
                while pos < len(got) and want not in got[pos]:
                    pos += 1
                if pos == len(got):
                    failures.append(f"line {b.line}: expected output line not found (in order): {want!r}\n"
                                    f"--- output of the block at line {blocks[last_run].line}:\n"
                                    + out.get(last_run, ""))
                    break
                pos += 1
    return failures


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql_admin(sql):
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL, timeout=60)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("page")
    p.add_argument("--source-dir", required=True)
    p.add_argument("--binary-dir", required=True)
    p.add_argument("--cmake", required=True)
    p.add_argument("--python", default="")
    args = p.parse_args()

    if not os.environ.get("FASTEPOST_TEST_DSN") or not os.environ.get("PGHOST"):
        print("skipped: no throwaway server (run through scripts/with-postgres)")
        return 77
    blocks = parse(args.page)
    databases = sorted(set(re.findall(r"^\s*createdb\s+([\w-]+)\s*$",
                                      "".join(b.text for b in blocks if b.kind == "run"), re.M)))

    work = tempfile.mkdtemp(prefix="fastepost-getting-started-")
    proc = None
    try:
        clone, home, shims = (os.path.join(work, d) for d in ("clone", "home", "bin"))
        for d in (clone, home, shims):
            os.mkdir(d)
        for entry in os.listdir(args.source_dir):
            if entry not in ("build", ".git"):
                os.symlink(os.path.join(args.source_dir, entry), os.path.join(clone, entry))
        os.symlink(args.binary_dir, os.path.join(clone, "build"))
        # The tools this build was configured with, under the names the page uses: never
        # whatever `python3` happens to be first on PATH.
        os.symlink(args.cmake, os.path.join(shims, "cmake"))
        if args.python:
            os.symlink(args.python, os.path.join(shims, "python3"))
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "ODOO_API_KEY", "PYTHONPATH", "LD_LIBRARY_PATH",
                            "PKG_CONFIG_PATH", "FASTEPOST_CLI", "MAKEFLAGS", "CFLAGS", "LDFLAGS")}
        env.update(HOME=home, PATH=shims + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                   PORT=str(free_port()), PYTHONDONTWRITEBYTECODE="1", LC_ALL="C.UTF-8")
        for db in databases:
            psql_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

        text = script(blocks)
        with open(os.path.join(work, "page.sh"), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"running {sum(b.kind == 'run' for b in blocks)} block(s) of {args.page} in {clone}")
        # Its own process group, so that a server the page started and did not stop (because a
        # later block failed) goes with it.
        proc = subprocess.Popen(["bash", os.path.join(work, "page.sh")], cwd=clone, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            print(out)
            print(f"FAIL: the page did not finish within {TIMEOUT} s")
            return 1
        per_block = outputs(blocks, out)
        if proc.returncode != 0:
            failing = max(per_block) if per_block else None
            where = f"the block at line {blocks[failing].line}" if failing is not None else "the page"
            print(out)
            print(f"FAIL: {where} exited with status {proc.returncode}")
            return 1
        failures = check_expectations(blocks, per_block)
        for f in failures:
            print("FAIL: " + f)
        if failures:
            return 1
        expects = sum(b.kind == "expect" for b in blocks)
        print(out)
        print(f"{args.page}: {sum(b.kind == 'run' for b in blocks)} blocks ran, "
              f"{expects} expected outputs found")
        return 0
    finally:
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for db in databases:
            try:
                psql_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            except (subprocess.SubprocessError, OSError):
                pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
