"""One checkpoint file per model: weights, optimizer, configs, statistics, skeleton.

Written atomically; read with ``torch.load(weights_only=True)`` so a checkpoint
can never run code. One reader serves resume and sampling.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

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


