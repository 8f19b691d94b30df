"""Compact per-run table: worst third of each criterion. python exp/summary.py TAG... [--frames N]"""
import json, sys
tags = [a for a in sys.argv[1:] if not a.startswith("--") and not a.isdigit()]
frames = int(sys.argv[sys.argv.index("--frames") + 1]) if "--frames" in sys.argv else None
rows = {}
for l in open("exp/runs/results.jsonl"):
    r = json.loads(l)
    if r["tag"] in tags and (frames is None or r["frames"] == frames):
        rows[(r["tag"], r["ds"], r["seed"], r["frames"])] = r
print("| variant | data | seed | frames | bar | pose_ratio thirds | window_ratio thirds | bone ratio (max third) | speed (min-max) | frozen max | outside max | training: steps / s / stop |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for k in sorted(rows, key=lambda k: (tags.index(k[0]), k[1], k[3], k[2])):
    r = rows[k]
    if "thirds" not in r:
        print(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | NaN |" + " |" * 7); continue
    th = r["thirds"]
    j = lambda key: " / ".join(f"{t[key]:.2f}" for t in th)
    tr = f"{r['steps']} / {r['train_s']:.0f} / {r['stopped']}" if r.get("steps") else "same checkpoint"
    if r.get("threads"): tr += f" ({r['threads']} thread)"
    print(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {'**pass**' if r['pass'] else 'fail'} | {j('pose')} | {j('win')} | "
          f"{max(t['bone'] for t in th):.2f} | {min(t['speed'] for t in th):.2f}-{max(t['speed'] for t in th):.2f} | "
          f"{max(t['frozen'] for t in th):.2f} | {max(t['outside'] for t in th):.2f} | {tr} |")
