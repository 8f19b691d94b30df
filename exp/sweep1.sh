export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=/work/research13
P=/work/main/.venv/bin/python
for ds in a b c; do
  $P exp/run.py v1r $ds --model exp/runs/v1_$ds.pt
  $P exp/run.py v1_anc05 $ds --model exp/runs/v1_$ds.pt --gen '{"anchor": 0.05}'
  $P exp/run.py v1_anc30 $ds --model exp/runs/v1_$ds.pt --gen '{"anchor": 0.3}'
  $P exp/run.py v1_noguard $ds --model exp/runs/v1_$ds.pt --gen '{"pose_guard": 0}'
  $P exp/run.py v1_noanc_noguard $ds --model exp/runs/v1_$ds.pt --gen '{"pose_guard": 0, "anchor": 0}'
  $P exp/run.py v1_noanc $ds --model exp/runs/v1_$ds.pt --gen '{"anchor": 0}'
done
