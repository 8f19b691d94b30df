import sys, time, torch
from engine import train, DanceConfig, TrainConfig, load_motion
m = load_motion("exp/data/c_crop.npy")
for n in (1, 2):
    torch.set_num_threads(n)
    r = train(m, model_config=DanceConfig(), config=TrainConfig(minutes=0.4, val_every=10**9))
    print(n, "threads", r.steps, "steps", round(r.seconds / max(r.steps, 1), 2), "s/step", flush=True)
