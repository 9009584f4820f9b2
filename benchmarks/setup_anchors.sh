#!/usr/bin/env bash
# Create (or refresh) benchmarks/.venv-anchors: torch + zuko + Pyro, the anchors we compare with.
# Idempotent: re-running re-checks the pins and prints the versions. Needs python3.11 on PATH
# (override with PYTHON=...). torch==2.13.0 is the CPU wheel that lies on this machine; any other
# torch version would download a multi-GB CUDA build. Torch never goes into the main venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-anchors"
python="${PYTHON:-python3.11}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" torch==2.13.0
"${pip[@]}" zuko==1.6.0 pyro-ppl==1.9.2 numpy==2.4.6

"$venv/bin/python" - <<'PY'
import numpy, pyro, torch, zuko
print(f"anchor venv ok: torch {torch.__version__}, zuko {zuko.__version__}, "
      f"pyro-ppl {pyro.__version__}, numpy {numpy.__version__}")
PY
