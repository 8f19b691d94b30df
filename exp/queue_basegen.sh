while pgrep -f "queue_final.sh" >/dev/null; do sleep 3; done
while pgrep -f "queue_after.sh" >/dev/null; do sleep 3; done
export PYTHONPATH=/work/research13/exp/base_wt OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
for d in e f; do /work/main/.venv/bin/python exp/run.py base $d --long --model exp/runs/base_$d.pt; done
