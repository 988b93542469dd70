#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every source file names its licence (MIT, LICENSE) with an SPDX identifier near its top.
#
#   tests/cli/spdx.sh SOURCE_DIR
set -euo pipefail
cd "$1"
missing=$(find src include bindings tests bench fuzz examples scripts cmake CMakeLists.txt .ci \
  \( -path tests/fixtures -o -path fuzz/corpus -o -path fuzz/regressions -o -name build -o -name generated \
     -o -name __pycache__ -o -name node_modules \) -prune -o -type f \
  \( -name '*.c' -o -name '*.h' -o -name '*.i' -o -name '*.py' -o -name '*.pyi' -o -name '*.rb' -o -name '*.sh' \
     -o -name '*.cmake' -o -name CMakeLists.txt -o -name '*.gemspec' -o -name '*.ru' -o -path 'scripts/*' \
     -o -path .ci/run \) -print |
  grep -v -E '_wrap\.c$|/core\.py$' |
  while read -r f; do head -c 400 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"; done)
if [[ -n "$missing" ]]; then
  echo "no SPDX-License-Identifier in:" >&2
  echo "$missing" >&2
  exit 1
fi
echo "spdx: every source file names its licence"
