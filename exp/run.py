"""Train one recipe on one dataset, generate takes, judge them with the shared tool.

python exp/run.py TAG DATASET [--minutes M] [--mc JSON] [--tc JSON] [--gen JSON] [--frames N] [--seeds 0,1,2] [--long]
Appends one JSON line per take to exp/runs/results.jsonl.
"""
import argparse, json, os, sys, time
from dataclasses import replace
import numpy as np
sys.path.insert(0, "/work/shared/tools")
import dance_quality as dq
import engine
assert engine.__file__.startswith("/work/research13"), engine.__file__
print("engine", engine.__file__, file=sys.stderr)
from engine import load_motion, train, DanceModel, DanceGenerator
from engine.models import DanceConfig
from engine.training import TrainConfig
from engine.motion import Motion

D = "exp/data/"
SETS = {"a": ("/work/shared/data/cmu_05_01_modern_dance.bvh", D + "a_cmu.npy"),
        "b": (D + "b_synth.npy", D + "b_synth.npy"), "c": (D + "c_crop.npy", D + "c_crop.npy"),
        "d": (D + "d_norm.npy", D + "d_norm.npy"), "e": (D + "e_markers.npy", D + "e_markers.npy"),
        "f": (D + "f_cmu30.npy", D + "f_cmu30.npy")}

def judge(data, take):
    bones, ref = dq.infer_bones(data)
    dd, dt = dq.bone_dev(data, bones, ref), dq.bone_dev(take, bones, ref)
    sd = np.linalg.norm(np.diff(data, axis=0), axis=-1).mean(1)
    st = np.linalg.norm(np.diff(take, axis=0), axis=-1).mean(1)
    lo, hi = data.reshape(-1, 3).min(0), data.reshape(-1, 3).max(0); span = hi - lo
    out = {"finite": bool(np.isfinite(take).all())}
    if not out["finite"]:
        return out
    thirds = np.array_split(np.arange(len(take)), 3)
    def part(ix):
        t = take[ix]
        dtt = dq.bone_dev(t, bones, ref)
        stt = np.linalg.norm(np.diff(t, axis=0), axis=-1).mean(1)
        r = dq.repertoire(data, t)
        return {"pose": r["pose_ratio"], "win": r.get("window_ratio", float("nan")),
                "bone": float(np.median(dtt) / (np.median(dd) + 1e-12)), "speed": float(stt.mean() / sd.mean()),
                "frozen": float((stt < 0.1 * np.median(sd)).mean()),
                "outside": float(((t < lo - 0.25 * span) | (t > hi + 0.25 * span)).any(-1).mean())}
    out["thirds"] = [part(ix) for ix in thirds]
    r = dq.repertoire(data, take)
    out.update({"pose": r["pose_ratio"], "win": r.get("window_ratio"), "bone": float(np.median(dt) / (np.median(dd) + 1e-12)),
                "speed": float(st.mean() / sd.mean()), "frozen": float((st < 0.1 * np.median(sd)).mean()),
                "outside": float(((take < lo - 0.25 * span) | (take > hi + 0.25 * span)).any(-1).mean())})
    return out

def passes(q):
    if not q.get("finite"):
        return False
    return all(t["pose"] <= 1.5 and t["win"] >= 0.3 and t["bone"] <= 1.5 and 0.5 <= t["speed"] <= 2
               and t["frozen"] <= 0.1 and t["outside"] <= 0.05 for t in q["thirds"])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tag"); ap.add_argument("ds")
    ap.add_argument("--minutes", type=float); ap.add_argument("--mc", default="{}"); ap.add_argument("--tc", default="{}")
    ap.add_argument("--gen", default="{}"); ap.add_argument("--frames", type=int, default=900)
    ap.add_argument("--seeds", default="0,1,2"); ap.add_argument("--long", action="store_true")
    ap.add_argument("--model", help="skip training, use this checkpoint")
    ap.add_argument("--threads", type=int, help="torch threads for training (1 on an oversubscribed machine)")
    ap.add_argument("--restore", action="store_true", help="(d): estimate the axis scale and train in restored space")
    a = ap.parse_args()
    os.makedirs("exp/runs", exist_ok=True)
    clip, data_path = SETS[a.ds]
    m = load_motion(clip)
    scale = np.ones(3)
    if a.restore:
        from engine.skeleton import estimate_axis_scale
        scale = estimate_axis_scale(m.positions)
        m = replace(m, positions=(m.positions * scale).astype(np.float32))
        print("scale", scale, file=sys.stderr)
    out = f"exp/runs/{a.tag}_{a.ds}.pt"
    info = {}
    if a.model:
        model = DanceModel.load(a.model)
    else:
        if os.path.exists(out): os.remove(out)
        if a.threads:
            import torch; torch.set_num_threads(a.threads)
        mc = DanceConfig(**json.loads(a.mc)); tc = TrainConfig(minutes=a.minutes, **json.loads(a.tc))
        t0 = time.time()
        r = train(m, out, model_config=mc, config=tc)
        info = {"threads": a.threads, "steps": r.steps, "train_s": round(r.seconds, 1), "stopped": r.stopped, "train_loss": r.train_loss,
                "val": r.val_loss, "best_val": r.best_val_loss}
        print("trained", info, file=sys.stderr)
        model = DanceModel.load(out)
    if getattr(model, "pose_bank", None) is None and os.path.exists(os.path.join(os.path.dirname(engine.__file__), "pose_guard.py")):
        from engine.pose_guard import build_pose_bank
        from engine.render import motion_up_axis
        from engine.dance_training import strided_clips
        up = "xyz".index(motion_up_axis(m)[-1])
        model.pose_bank, model.pose_radius = build_pose_bank(strided_clips([m], model.config.model_fps), up)
        model.pose_up = up
    data = dq.time_major(np.load(data_path))
    import torch; torch.set_num_threads(1)
    gk = json.loads(a.gen)
    for seed in [int(s) for s in a.seeds.split(",")]:
        for frames in ([a.frames] + ([3600] if a.long else [])):
            gen = DanceGenerator(model, seed=m, seed_frame=100, rng=seed, **gk)
            t0 = time.time(); take = gen.generate(frames); gs = time.time() - t0
            g = getattr(gen, "_guard", None)
            if g is not None: print(f"guard moved {g.corrected}/{g.seen}", file=sys.stderr)
            take_src = take / scale
            np.save(f"exp/runs/{a.tag}_{a.ds}_s{seed}_{frames}.npy", take_src)
            q = judge(data, take_src.astype(np.float64))
            rec = {"tag": a.tag, "ds": a.ds, "seed": seed, "frames": frames, "gen_fps": frames / gs, **info,
                   "mc": a.mc, "tc": a.tc, "gen": a.gen, "pass": passes(q), **q}
            with open("exp/runs/results.jsonl", "a") as f: f.write(json.dumps(rec) + "\n")
            th = q.get("thirds", [])
            print(f"{a.tag} {a.ds} s{seed} {frames}f pass={rec['pass']} " + " | ".join(
                f"p{t['pose']:.2f} w{t['win']:.2f} b{t['bone']:.2f} v{t['speed']:.2f} z{t['frozen']:.2f} o{t['outside']:.2f}" for t in th))

main()
