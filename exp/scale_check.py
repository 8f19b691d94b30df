import time, numpy as np, sys
sys.path.insert(0, "/work/shared/tools"); import dance_quality as dq
from engine.skeleton import estimate_axis_scale, fit_axis_scale, looks_axis_normalised
for k, f in [("a","a_cmu"),("b","b_synth"),("c","c_crop"),("d","d_norm"),("e","e_markers"),("f","f_cmu30")]:
    x = dq.time_major(np.load(f"exp/data/{f}.npy"))
    t0 = time.time(); s, b, a = fit_axis_scale(x); t = time.time() - t0
    bones, ref = dq.infer_bones(x); dev0 = np.median(dq.bone_dev(x, bones, ref))
    y = x * s; bones, ref = dq.infer_bones(y); dev1 = np.median(dq.bone_dev(y, bones, ref))
    print(k, "normalised" if looks_axis_normalised(x) else "normal", "estimate", np.round(estimate_axis_scale(x), 3),
          "ungated fit", np.round(s, 3), f"cv {b:.4f}->{a:.4f}", f"median bone dev {dev0:.4f}->{dev1:.4f}", f"{t:.1f}s")
