"""Where and in what precision the networks run."""

from __future__ import annotations

import os

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    from .errors import ChoreoError

    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ChoreoError(f"unknown device {device!r} (use auto, cpu or cuda)") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ChoreoError("--device cuda asked for, but no CUDA GPU is available here (use --device cpu)")
    return dev


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """Compute dtype for training: bf16 where the hardware runs it fast, else fp32.

    Weights and optimizer state stay fp32 either way; only the forward and
    backward passes run in bf16, and the mixture likelihood is always fp32.
    """
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        from .errors import ChoreoError

        raise ChoreoError(f"unknown precision {precision!r} (use auto, bf16 or fp32)")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu" and cpu_has_fast_bf16():
        return torch.bfloat16
    return torch.float32


def cpu_has_fast_bf16() -> bool:
    """True on CPUs with native bf16 matmul (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def training_threads(asked: int | None) -> tuple[int, str]:
    """CPU threads for training, and why (when not asked for).

    Our models' matrices are small, so a second thread only pays when both cores are free: on a
    busy 2-core machine each step waits for the slower thread, and training steps measured
    10-19x slower with 2 threads than with 1 while other work ran (load 10; dance and sketch
    alike). So: every core, or one when the machine is already busy (1-minute load average
    above cores - 1).
    """
    cores = os.cpu_count() or 1
    if asked is not None:
        return max(1, asked), ""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if cores > 1 and load > cores - 1:
        return 1, f"the machine is busy: load {load:.1f} on {cores} cores; --threads overrides"
    return cores, ""
