"""The dance knobs: generation (what the sliders hold), view (what the stage and videos show) and
training (the model and its budget).

One definition per knob (see ``engine.core.knobs``). Defaults of the training knobs are the
config dataclasses' own, so a front end, the CLI and ``train()`` cannot disagree.
Durations a person types are in seconds; frames are derived from the clip's rate.
"""

from __future__ import annotations

from ..core.knobs import Knob, table
from ..core.training import TrainConfig
from .model import DanceConfig

_D, _T = DanceConfig(), TrainConfig()

GENERATION = table([
    Knob("temperature", "Temperature", "float", 1.0, lo=0.0, hi=5.0, scale="log", log_floor=0.05,
         tip="How adventurous the choice of movement is: low = the most typical next move (calm, "
             "repetitive), high = rarer moves more often (surprising, can get wild); 0 = always the "
             "most likely kind of move"),
    Knob("sigma_temperature", "Sigma temperature", "float", 1.0, lo=0.0, hi=5.0, scale="log", log_floor=0.05,
         tip="How much the chosen move is varied: low = clean, precise, a bit robotic; 1 = the spread "
             "the model learned; higher = looser and jittery"),
    Knob("mixture", "Mixture", "choice", "auto", choices=("auto", "argmax"),
         tip="Which of the model's movement modes to draw from: auto samples a mode every frame, "
             "argmax (most likely) always takes the likeliest, a number locks one mode (a movement 'flavour')"),
    Knob("look_back", "Look-back", "float", 1.0, lo=0.02, hi=30.0, unit="s", scale="log", log_floor=0.05,
         step=0.1, tip="How much of the clip the model watches before it dances on: short = it forgets the "
                       "phrase quickly, long = it keeps the phrase's momentum"),
    Knob("duration", "Length", "float", 10.0, lo=0.1, hi=600.0, unit="s", scale="log", step=1.0, decimals=1,
         tip="Length of the take"),
    Knob("rng", "Random seed", "int", 0, lo=0, hi=2**31 - 1, flag="--seed",
         tip="The same seed and settings give the same dance again"),
    Knob("variations", "Variations", "int", 1, lo=1, hi=8,
         tip="How many different continuations to dance side by side (one colour each)"),
    Knob("pose_guard", "Pose guard", "float", 0.5, lo=0.0, hi=5.0, step=0.1,
         tip="Keep every pose within this many times the distance real unseen movement lies from the data's "
             "poses (1 = as far as the dancer's own new movement; 0 = off: the model alone decides)"),
    Knob("anchor", "Anchor pull", "float", 0.05, lo=0.0, hi=1.0, step=0.01,
         tip="How strongly each pose is pulled, per step, towards the pose the model expects the body to be in "
             "(small: free and new; large: close to the clip, towards a replay; 0 = off)"),
    Knob("continue_from_playhead", "Continue from playhead", "bool", False,
         tip="Dance on from the pose under the playhead instead of the start of the clip"),
    Knob("live", "Live", "bool", False, tip="Regenerate as soon as a knob moves (the take updates while you drag)"),
    Knob("beat_align", "Beat align", "bool", True,
         tip="With a song loaded: re-time the take so its accents (moments the movement slows and lands) "
             "fall on the song's beats, following its tempo; off = the take as the model danced it"),
])

VIEW = table([
    Knob("lead_in", "Lead-in before the take", "bool", False,
         tip="Play the moment the take continues from (the look-back the model watched) before the take, "
             "on the stage and in exported videos"),
])

TRAINING = table([
    Knob("minutes", "Budget", "float", 3.0, lo=0.02, hi=600.0, unit="min", scale="log", decimals=2,
         tip="Time budget: training stops after this long, or earlier when it stops improving"),
    Knob("hidden", "Hidden units", "int", _D.hidden, lo=8, hi=2048, scale="log",
         tip="LSTM units per layer: more = more capacity, slower"),
    Knob("layers", "Layers", "int", _D.layers, lo=1, hi=6, tip="Stacked LSTM layers"),
    Knob("mixtures", "Mixtures", "int", _D.mixtures, lo=1, hi=32,
         tip="Gaussian modes in the mixture head: how many distinct next moves the model keeps in mind"),
    Knob("batch", "Batch", "int", _T.batch, lo=1, hi=1024, scale="log",
         tip="Training crops per step (the global batch: split across processes with --nproc)"),
    Knob("seq_len", "Crop frames", "int", _T.seq_len, lo=8, hi=2048, scale="log",
         tip="Frames per training crop (every frame is a target)"),
    Knob("lr", "Learning rate", "float", _T.lr, lo=1e-5, hi=0.1, scale="log", decimals=5,
         tip="Peak Adam learning rate (warm-up, then cosine decay)"),
    Knob("device", "Device", "choice", "auto", choices=("auto", "cpu", "cuda", "mps"),
         tip="Where to train: auto picks a GPU when there is one"),
    Knob("precision", "Precision", "choice", "auto", choices=("auto", "bf16", "fp32"),
         tip="Compute precision: auto uses bf16 where the hardware is fast at it (weights stay fp32)"),
])


def mixture_choices(components: int) -> list[tuple[str, str | int]]:
    """The mixture knob's menu for a model with ``components`` Gaussian modes: (label, value) pairs."""
    return [("auto (sample a mode)", "auto"), ("most likely", "argmax"),
            *((f"mode {k}", k) for k in range(components))]
