"""One checkpoint file per model: weights, optimizer, configs, statistics, skeleton.

Written atomically; read with ``torch.load(weights_only=True)`` so a checkpoint
can never run code. One reader serves resume and sampling.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import ChoreoError
from .fileio import atomic_path

FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plain types and tensors only) atomically to ``path``."""
    payload = {"format": FORMAT_VERSION, **payload}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def read_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Load a checkpoint safely; ``kind`` ("dance"/"sketch") is checked when given."""
    path = Path(path)
    if not path.is_file():
        raise ChoreoError("model file not found" if not path.exists() else "is not a file", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ChoreoError("refused to load: holds Python objects other than tensors (a pickle that could run code)",
                          path) from err
    except MemoryError as err:
        raise ChoreoError("not a readable checkpoint: it claims more memory than this machine has", path) from err
    except Exception as err:  # weights_only=True ran no code; any failure here means a damaged file
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ChoreoError(f"not a readable checkpoint (truncated or not a model file): {first[:160]}", path) from err
    if not isinstance(payload, dict) or not isinstance(payload.get("format"), int) or "kind" not in payload:
        raise ChoreoError("not a Choreo Studio checkpoint", path)
    if payload["format"] > FORMAT_VERSION:
        raise ChoreoError(f"written by a newer Choreo Studio (format {payload['format']})", path)
    if kind is not None and payload["kind"] != kind:
        raise ChoreoError(f"is a {payload['kind']} model, expected a {kind} model", path)
    return payload


def dance_extra(model) -> dict[str, Any]:
    """What a dance checkpoint carries beside the weights: normalisation, skeleton, a seed stretch."""
    seed = model.seed
    return {
        "codec": model.codec.state_dict(),
        "bones": torch.as_tensor(model.bones, dtype=torch.long).cpu(),
        "bone_lengths": torch.as_tensor(model.bone_lengths, dtype=torch.float64).cpu(),
        "seed_positions": torch.from_numpy(seed.positions.copy()),
        "seed_bones": torch.as_tensor(np.asarray(seed.bones), dtype=torch.long),
        "fps": float(seed.fps),
        "joint_names": list(seed.joint_names),
        "layout": seed.layout,
        "source": seed.source,
        **({} if getattr(model, "pose_bank", None) is None else {
            "pose_bank": torch.as_tensor(np.asarray(model.pose_bank, np.float32)),
            "pose_radius": float(model.pose_radius), "pose_up": int(model.pose_up)}),
    }


def save_dance_model(model, path: str | Path) -> Path:
    """Write a ready-to-generate checkpoint of ``model`` (weights, config, extras; no optimizer state)."""
    from dataclasses import asdict

    info = getattr(model, "checkpoint_info", None) or {}
    return save_checkpoint(path, {
        "kind": "dance", "model_config": asdict(model.config), "train_config": {},
        "model": model.state_dict(), "optimizer": None, "step": int(info.get("step") or 0),
        "frames_seen": int(info.get("frames_seen") or 0), "elapsed": float(info.get("elapsed") or 0.0),
        "best_val": float(info["best_val"]) if info.get("best_val") is not None else float("inf"),
        "history": {}, "extra": dance_extra(model),
    })


def load_dance_model(path: str | Path, device: str | torch.device = "cpu"):
    """Rebuild a ready-to-generate ``DanceModel`` from a checkpoint."""
    from .models import DanceConfig, DanceModel
    from .motion import Motion
    from .representation import MotionCodec

    payload = read_checkpoint(path, kind="dance")
    try:
        config = dict(payload["model_config"])
        if "anchor.weight" not in payload["model"]:
            config["anchor"] = 0.0  # written before the pose anchor existed
        model = DanceModel(DanceConfig(**config))
        model.load_state_dict(payload["model"])
        extra = payload["extra"]
        model.codec = MotionCodec.from_state_dict(extra["codec"])
        model.bones = extra["bones"].long()
        model.bone_lengths = extra["bone_lengths"].double()
        model.seed = Motion(
            extra["seed_positions"].float().numpy(), fps=float(extra["fps"]),
            joint_names=list(extra["joint_names"]), bones=extra.get("seed_bones", extra["bones"]).numpy(),
            source=str(extra.get("source", "training data")), layout=str(extra.get("layout", "frames-first")),
        )
        if "pose_bank" in extra:
            model.pose_bank = extra["pose_bank"].float().numpy()
            model.pose_radius, model.pose_up = float(extra["pose_radius"]), int(extra["pose_up"])
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        raise ChoreoError(f"checkpoint is incomplete or from another model ({err})"[:240], path) from err
    model.checkpoint_info = {k: payload.get(k) for k in ("step", "frames_seen", "best_val", "elapsed")}
    return model.to(device).eval()
