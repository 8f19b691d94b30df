#!/usr/bin/env bash
# The GPU path end to end: train, generate and benchmark on CUDA (and 2 NCCL processes when there are
# 2 GPUs). On a machine without a CUDA GPU it says so and exits 0: there is nothing to check.
# Usage: bash scripts/gpu_check.sh   (PYTHON=... to use another interpreter than .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

gpus=$("$PY" -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)")
if [ "$gpus" = 0 ]; then
  echo "gpu_check: no CUDA GPU here (torch $("$PY" -c 'import torch; print(torch.__version__)')); nothing to check"
  exit 0
fi
echo "gpu_check: $gpus CUDA GPU(s): $("$PY" -c 'import torch; print(torch.cuda.get_device_name(0))')"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
choreo() { "$PY" -m studio.cli "$@"; }
field() { "$PY" -c "import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])$1)"; }

"$PY" -c "from studio.bench.distributed import write_dancer_corpus; write_dancer_corpus('$work/corpus')"
trained=$(choreo train "$work/corpus" --out "$work/m.pt" --epochs 3 --device cuda --json)
echo "gpu_check: train on $(echo "$trained" | field '["device"]') in $(echo "$trained" | field '["precision"]'):" \
     "$(echo "$trained" | field '["steps"]') steps, validation $(echo "$trained" | field '["val_loss"]')"
[ "$(echo "$trained" | field '["device"].startswith("cuda")')" = True ]

generated=$(choreo generate "$work/m.pt" --frames 300 --device cuda --out "$work/take.npy" --json)
echo "gpu_check: generate on cuda: $(echo "$generated" | field '["frames_per_s"]') frames/s," \
     "finite: $(echo "$generated" | field '["quality"]["finite"]')"
[ "$(echo "$generated" | field '["quality"]["finite"]')" = True ]

if [ "$gpus" -ge 2 ]; then
  two=$(choreo train "$work/corpus" --out "$work/m2.pt" --epochs 3 --device cuda --nproc 2 --json)
  echo "gpu_check: 2 processes (NCCL): world_size $(echo "$two" | field '["world_size"]')," \
       "validation $(echo "$two" | field '["val_loss"]')"
fi

bench=$(choreo bench --device cuda --only dance_training dance_generation precision --seconds 3 --json)
echo "$bench" | "$PY" -c "
import json, sys
figures = json.loads(sys.stdin.read().strip().splitlines()[-1])
bad = {k: v['error'] for k, v in figures.items() if 'error' in v}
for k, v in figures.items():
    print(f'gpu_check: bench {k}:', {n: v[n] for n in v if n.endswith(('frames_per_s', 'speedup', 'device', 'lstm_step'))})
sys.exit(f'gpu_check: bench failed: {bad}' if bad else 0)
"
echo "gpu_check: the GPU path works end to end"
