#!/usr/bin/env bash
# Regenerates what the CLI specs compare with the command definitions: docs/cli.md (sim cli-reference) and the
# `sim --help` block in README.md ("The command line"). Run after changing a command; needs a Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
sim=Cli/bin/Release/net10.0/linux-x64/sim
"$sim" cli-reference > docs/cli.md
help=$("$sim" --help)
python3 - "$help" <<'PY'
import sys, re
help = sys.argv[1].rstrip()
text = open("README.md").read()
start = text.index("## The command line")
a = text.index("```\n", start) + 4
b = text.index("\n```", a)
open("README.md", "w").write(text[:a] + help + text[b:])
PY
echo "docs/cli.md and README.md's sim --help block regenerated"
