import sys, time, json, numpy as np, torch
from engine import train, DanceConfig, TrainConfig, load_motion
m = load_motion("/work/shared/data/cmu_05_01_modern_dance.bvh")
for kw in json.loads(sys.argv[1]):
    r = train(m, model_config=DanceConfig(**kw), config=TrainConfig(epochs=None, minutes=0.25, val_every=10**9))
    print(kw, r.steps, "steps", round(r.seconds, 1), "s", round(r.seconds / r.steps, 3), "s/step", flush=True)
