import numpy as np
from engine.skeleton import estimate_axis_scale
for f in ["b_synth", "e_markers", "a_cmu", "f_cmu30"]:
    x = np.load(f"exp/data/{f}.npy").astype(np.float64)
    lo, hi = x.reshape(-1,3).min(0), x.reshape(-1,3).max(0); span = hi - lo
    n = (x - lo) / span
    truth = span / span[1]
    print(f, "truth", np.round(truth, 3), "est", np.round(estimate_axis_scale(n), 3))
    # z-up variant
    nz = n[..., [0, 2, 1]]
    print(f, "z-up truth", np.round(truth[[0,2,1]] / truth[1], 3), "est", np.round(estimate_axis_scale(nz), 3))
