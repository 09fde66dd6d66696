#!/usr/bin/env bash
# Create the project's virtualenv (.venv) and install the given requirements file into it.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=".venv/.installed-$(sha1sum "$req" requirements.txt | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$req"
  touch "$stamp"
fi
