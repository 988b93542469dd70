# SPDX-License-Identifier: MIT
"""The page runner itself (run_page.py), without a server: the markers it reads, the script it
writes, and that a missing expected line fails. A runner that silently ran nothing, or checked
nothing, would let every getting-started page pass."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_page  # noqa: E402

PAGE = """# A page

```sh
echo not marked: never run
```

<!-- test: file hello.txt -->
```text
hello from a file
```

<!-- test: run -->
```sh
cat hello.txt
echo second line
```

<!-- test: expect -->
```text
hello from a file
...
second   line
```
"""


def write(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8")
    f.write(text)
    f.close()
    return f.name


class RunPageTest(unittest.TestCase):
    def blocks(self, text):
        path = write(text)
        self.addCleanup(os.unlink, path)
        return run_page.parse(path)

    def run_script(self, blocks):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(["bash", "-c", run_page.script(blocks)], cwd=tmp, capture_output=True,
                                 text=True, timeout=60)
        return out.returncode, run_page.outputs(blocks, out.stdout)

    def test_marked_blocks_only_in_order(self):
        blocks = self.blocks(PAGE)
        self.assertEqual(["file", "run", "expect"], [b.kind for b in blocks])
        self.assertEqual("hello.txt", blocks[0].arg)
        rc, out = self.run_script(blocks)
        self.assertEqual(0, rc)
        self.assertEqual("hello from a file\nsecond line", out[1])
        self.assertNotIn("never run", "".join(out.values()))
        self.assertEqual([], run_page.check_expectations(blocks, out))

    def test_a_missing_or_misordered_line_fails(self):
        for wrong in ("second line\nhello from a file", "hello from a file\nthird line"):
            blocks = self.blocks(PAGE.replace("hello from a file\n...\nsecond   line", wrong))
            rc, out = self.run_script(blocks)
            self.assertEqual(0, rc)
            failures = run_page.check_expectations(blocks, out)
            self.assertEqual(1, len(failures), wrong)
            self.assertIn("expected output line not found", failures[0])

    def test_a_failing_command_stops_the_page(self):
        blocks = self.blocks(PAGE.replace("echo second line", "false\necho second line"))
        rc, out = self.run_script(blocks)
        self.assertNotEqual(0, rc)
        self.assertEqual(1, max(out), "the failing block is the last one with output")
        self.assertNotIn("second line", out[1])

    def test_marker_mistakes_are_errors(self):
        for text in ("<!-- test: run -->\n\n```sh\necho x\n```\n",   # not right before the fence
                     "<!-- test: run -->\n```python\nprint(1)\n```\n",  # run marks a shell block
                     "<!-- test: file ../x -->\n```c\nint x;\n```\n",  # a plain file name
                     "<!-- test: run -->\n```sh\necho x\n",            # not closed
                     "```sh\necho x\n```\n"):                         # nothing marked to run
            with self.assertRaises(SystemExit, msg=text):
                self.blocks(text)


if __name__ == "__main__":
    unittest.main()
