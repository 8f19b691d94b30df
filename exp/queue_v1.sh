while pgrep -f "queue_base2" >/dev/null; do sleep 5; done
for d in a b c; do PYTHONPATH=/work/research13 /work/main/.venv/bin/python exp/run.py v1 $d; done
