while pgrep -f "queue_v1" >/dev/null; do sleep 5; done
for d in e f; do PYTHONPATH=/work/research13/exp/base_wt /work/main/.venv/bin/python exp/run.py base $d --long; done
