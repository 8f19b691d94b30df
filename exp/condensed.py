"""One row per variant x dataset x length: worst over seeds and thirds. python exp/condensed.py TAG... [--frames N]"""
import json, sys
tags = [a for a in sys.argv[1:] if not a.startswith("--") and not a.isdigit()]
frames = int(sys.argv[sys.argv.index("--frames") + 1]) if "--frames" in sys.argv else None
rows = {}
for l in open("exp/runs/results.jsonl"):
    r = json.loads(l)
    if r["tag"] in tags and (frames is None or r["frames"] == frames) and "thirds" in r:
        rows[(r["tag"], r["ds"], r["seed"], r["frames"])] = r
groups = {}
for k, r in rows.items():
    groups.setdefault((k[0], k[1], k[3]), []).append(r)
print("| variant | data | frames | takes passing | pose_ratio max (third) | window_ratio min | bone ratio max | speed min-max | frozen max | outside max | training steps / s / stop |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for g in sorted(groups, key=lambda g: (tags.index(g[0]), g[1], g[2])):
    rs = groups[g]; th = [t for r in rs for t in r["thirds"]]
    r0 = rs[0]
    tr = f"{r0['steps']} / {r0['train_s']:.0f} / {r0['stopped']}" if r0.get("steps") else "same checkpoint"
    if r0.get("threads"): tr += " (1 thread)"
    print(f"| {g[0]} | {g[1]} | {g[2]} | {sum(r['pass'] for r in rs)}/{len(rs)} | {max(t['pose'] for t in th):.2f} | {min(t['win'] for t in th):.2f} | "
          f"{max(t['bone'] for t in th):.2f} | {min(t['speed'] for t in th):.2f}-{max(t['speed'] for t in th):.2f} | {max(t['frozen'] for t in th):.2f} | {max(t['outside'] for t in th):.2f} | {tr} |")
