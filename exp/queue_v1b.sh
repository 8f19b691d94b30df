while pgrep -f "sweep1.sh" >/dev/null; do sleep 3; done
export PYTHONPATH=/work/research13
P=/work/main/.venv/bin/python
$P exp/run.py v1 d --restore
$P exp/run.py v1 e
$P exp/run.py v1 f
export PYTHONPATH=/work/research13/exp/base_wt
$P exp/run.py base e --long
$P exp/run.py base f --long
