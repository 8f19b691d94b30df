while pgrep -f "queue_v1b.sh" >/dev/null; do sleep 3; done
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=/work/research13
P=/work/main/.venv/bin/python
for ds in a c; do $P exp/run.py v1_anc10 $ds --model exp/runs/v1_$ds.pt --gen '{"anchor": 0.1}'; done
