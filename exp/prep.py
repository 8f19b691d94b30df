"""Write the evaluation clips (a)-(f) as .npy (data for dance_quality) and training inputs."""
import numpy as np
from engine import load_motion
from engine.synthetic import synthetic_dancer, synthetic_markers
D = "exp/data/"
cmu = load_motion("/work/shared/data/cmu_05_01_modern_dance.bvh")
print(cmu.positions.shape, cmu.fps)
np.save(D + "a_cmu.npy", cmu.positions)
np.save(D + "b_synth.npy", synthetic_dancer(frames=1800, fps=30.0).positions)
crop = cmu.positions[:500].copy()
np.save(D + "c_crop.npy", crop)
lo, hi = crop.reshape(-1, 3).min(0), crop.reshape(-1, 3).max(0)
norm = (crop - lo) / (hi - lo)
np.save(D + "d_norm.npy", np.ascontiguousarray(norm.swapaxes(0, 1)).astype(np.float32))
np.save(D + "e_markers.npy", synthetic_markers(frames=1800).positions)
np.save(D + "f_cmu30.npy", cmu.positions[::4].copy())
for k in "abcdef":
    import glob
    f = glob.glob(D + k + "_*.npy")[0]; a = np.load(f); print(f, a.shape, a.reshape(-1,3).min(0), a.reshape(-1,3).max(0))
