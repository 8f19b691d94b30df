while pgrep -f "queue_final.sh" >/dev/null; do sleep 3; done
export PYTHONPATH=/work/research13
/work/main/.venv/bin/python exp/run.py noturns d --threads 1 --restore --mc '{"turns": false}'
