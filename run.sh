#!/usr/bin/env bash
# Install what the app needs and start it: embedded Prefect backend, offline snapshot by default.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
