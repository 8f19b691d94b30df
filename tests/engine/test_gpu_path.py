"""The GPU path, tested on the CPU: the torch generation step, bf16 autocast training, device choice.

A GPU runs the same code with the model on ``cuda``; ``scripts/gpu_check.sh`` runs it end to end there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import ChoreoError, DanceGenerator, DanceModel
from engine.core.device import resolve_device
from engine.core.mdn import diag_mixture_nll
from engine.core.training import autocast_forward, make_forward


@pytest.fixture(scope="module")
def model(tiny_dance):
    return DanceModel.load(tiny_dance[0])


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_torch_generation_step_matches_the_numpy_step(model, tiny_dance, temperature):
    """The step a GPU takes (torch ``step_hidden``) dances the same take as the CPU's NumPy step."""
    _, motion = tiny_dance
    kw = dict(seed=motion, seed_frame=120, rng=3, variations=2, temperature=temperature,
              sigma_temperature=temperature)
    numpy_gen = DanceGenerator(model, **kw)
    torch_gen = DanceGenerator(model, **kw, torch_step=True)
    assert numpy_gen._numpy_lstm is not None and torch_gen._numpy_lstm is None
    a, b = numpy_gen.generate(60), torch_gen.generate(60)
    assert isinstance(torch_gen._state[0], torch.Tensor)  # the state stayed with torch, as on a GPU
    scale = float(np.ptp(motion.positions))
    assert np.abs(a - b).max() < 1e-4 * scale
    torch_gen.temperature = 0.5  # live parameter changes work on the torch path too
    assert np.isfinite(torch_gen.generate(10)).all()


def test_bf16_autocast_forward_trains_fp32_weights(model):
    """The CUDA training forward (autocast), run here under CPU autocast: bf16 compute, fp32 weights and
    likelihood, and a loss close to the fp32 one."""
    torch.manual_seed(0)
    x = torch.randn(2, 12, model.config.frame_dim)
    target = torch.randn(2, 12, model.config.frame_dim)
    net = model.train()
    ref = diag_mixture_nll(net(x)[0], target).mean().item()
    mix, _ = autocast_forward(net, torch.bfloat16, "cpu")(x)
    assert mix.mu.dtype == torch.float32  # the mixture head returns fp32 for the likelihood
    loss = diag_mixture_nll(mix, target).mean()
    net.zero_grad()
    loss.backward()
    grads = [p.grad for name, p in net.named_parameters() if name.startswith(("lstm.", "head."))]  # the NLL's
    assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    assert abs(loss.item() - ref) < 0.05 * abs(ref) + 0.05
    net.eval()


def test_make_forward_picks_autocast_on_cuda_and_casts_on_cpu(model):
    assert make_forward(model, torch.float32, "cuda") is model
    cuda_forward = make_forward(model, torch.bfloat16, "cuda")
    assert cuda_forward.__qualname__.startswith("autocast_forward")
    assert not make_forward(model, torch.bfloat16, "cpu").__qualname__.startswith("autocast_forward")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given when there is no GPU")
def test_asking_for_cuda_without_a_gpu_is_one_clear_line():
    with pytest.raises(ChoreoError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_gpu_check_script_says_when_there_is_no_gpu():
    """``scripts/gpu_check.sh``: the end-to-end GPU check; without a GPU it says so and succeeds."""
    script = Path(__file__).parents[2] / "scripts" / "gpu_check.sh"
    run = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "PYTHON": sys.executable})
    assert run.returncode == 0, run.stderr
    if torch.cuda.is_available():
        assert "the GPU path works end to end" in run.stdout
    else:
        assert run.stdout.strip() == f"gpu_check: no CUDA GPU here (torch {torch.__version__}); nothing to check"
