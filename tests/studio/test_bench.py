"""``choreo bench`` figures run and report both sides of each ratio (tiny sizes: no timing asserted)."""

from __future__ import annotations

import inspect

import pytest
import torch

from engine.sketch.model import SketchConfig
from studio.bench.sketch import bench_sketch_long_training, bench_sketch_training
from studio.cli.bench import BENCHES

TINY_SKETCH = SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=3, dropout=0.0)


def test_every_bench_takes_the_seconds_argument():
    for fn in BENCHES.values():
        assert "seconds" in inspect.signature(fn).parameters


def test_sketch_bench_reports_both_loops():
    res = bench_sketch_training(2.0, precision="fp32", n_sketches=80, model_config=TINY_SKETCH)
    assert res["fit_steps_per_s"] > 0 and res["plain_torch_fp32_steps_per_s"] > 0 and res["ratio"] > 0


@pytest.mark.slow
def test_distributed_bench_reports_per_process_throughput_for_one_and_two_processes():
    from studio.bench.distributed import bench_distributed

    res = bench_distributed(seconds=1.0, model=(8, 1, 2), batch=8, seq_len=16, clips=2, frames=200)
    for n in (1, 2):
        figures = res[f"nproc{n}"]
        assert figures["world_size"] == n and figures["frames_per_s"] > 0
        assert figures["frames_per_s_per_process"] == pytest.approx(figures["frames_per_s"] / n)
    assert res["scaling"] > 0 and res["per_process_ratio"] > 0


def test_bench_takes_a_device_and_refuses_a_missing_gpu(capsys):
    from studio.cli import main

    if not torch.cuda.is_available():
        assert main(["bench", "--device", "cuda", "--only", "precision"]) == 2
        assert "no CUDA GPU" in capsys.readouterr().err
    for name in ("dance_training", "dance_generation", "precision", "distributed"):
        assert "device" in inspect.signature(BENCHES[name]).parameters


def test_sketch_long_bench_compares_equal_steps_and_the_recipe():
    res = bench_sketch_long_training(1.0, precision="fp32", n_sketches=70, model_config=TINY_SKETCH, batch=8)
    assert res["plain_torch_fp32_packed_steps_per_s"] > 0 and res["fit_steps_per_s"] > 0
    assert res["equal_steps"] >= 2 and res["recipe_steps_per_s"] > 0
    assert res["median_points_prepared"] < res["median_points"]  # long drawings are re-simplified
    # the same initial weights, batches and steps: in fp32 the two encoders give the same model
    assert abs(res["fit_val_loss"] - res["plain_torch_val_loss"]) < 1e-3
