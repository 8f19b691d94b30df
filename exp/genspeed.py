"""Best-of-N interleaved CPU-time (process_time: robust to other processes on a shared machine) timing of DanceGenerator vs the bench's bare torch step (same model as `bench`)."""
import time, numpy as np, torch, engine
torch.set_num_threads(1)
from engine.bench import _bench_model, WINDOW
from engine.models import DanceConfig
from engine.generation import DanceGenerator
config = DanceConfig(n_joints=55)
model, _, _ = _bench_model(config); model.eval()
gen = DanceGenerator(model, seed_frame=200, look_back=WINDOW, rng=0)
x = torch.randn(1, 1, config.frame_dim); st = [None]
def bare(n):
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False):
        for _ in range(n):
            h, st[0] = model.lstm(x, st[0]); model.head(h)
gen.generate(50); bare(50)
bo, bb = 0, 0
for _ in range(30):
    t = time.process_time(); gen.generate(200); bo = max(bo, 200 / (time.process_time() - t))
    t = time.process_time(); bare(200); bb = max(bb, 200 / (time.process_time() - t))
print(engine.__file__.split("/")[-3], f"ours {bo:.0f} f/s, bare {bb:.0f} f/s, ratio {bo / bb:.3f}")
