while pgrep -f "exp/run.py base" >/dev/null; do sleep 5; done
for d in b d e f; do PYTHONPATH=/work/research13 /work/main/.venv/bin/python exp/run.py base $d --long --gen '{"pose_guard": 0}'; done
