#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's Chromium and docker-compose, which
# checks deploy/docker-compose.yml offline), lint, and run every test.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ] || ! command -v docker-compose >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium docker-compose
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
exec .venv/bin/python -m pytest --durations=25 "$@"
