export PYTHONPATH=/work/research13
P=/work/main/.venv/bin/python
$P exp/run.py final a --long --threads 1
$P exp/run.py final b --long --threads 1
$P exp/run.py final c --long --threads 1
$P exp/run.py final d --long --threads 1 --restore
$P exp/run.py final e --long --threads 1
$P exp/run.py final f --long --threads 1
export PYTHONPATH=/work/research13/exp/base_wt
$P exp/run.py base e --long --threads 1
$P exp/run.py base f --long --threads 1
