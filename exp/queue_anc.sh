while pgrep -f "queue_base2" >/dev/null; do sleep 5; done
for d in a b; do PYTHONPATH=/work/research13 /work/main/.venv/bin/python exp/run.py anc $d; done
