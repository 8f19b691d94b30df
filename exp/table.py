"""Markdown table of exp/runs/results.jsonl: python exp/table.py TAG [TAG...] [--frames N]"""
import json, sys
tags = [a for a in sys.argv[1:] if not a.startswith("--")]
frames = None
if "--frames" in sys.argv: frames = int(sys.argv[sys.argv.index("--frames") + 1])
rows = [json.loads(l) for l in open("exp/runs/results.jsonl")]
print("| tag | data | seed | frames | pass | pose (thirds) | window (thirds) | bone x data | speed | frozen | outside | steps / train s / stop |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
last = {}
for r in rows:
    if r["tag"] in tags and (frames is None or r["frames"] == frames):
        last[(r["tag"], r["ds"], r["seed"], r["frames"])] = r
for k in sorted(last, key=lambda k: (tags.index(k[0]), k[1], k[3], k[2])):
    r = last[k]
    if not r.get("finite", True) or "thirds" not in r:
        print(f"| {r['tag']} | {r['ds']} | {r['seed']} | {r['frames']} | NaN | | | | | | | |"); continue
    th = r["thirds"]
    f = lambda key, fmt="{:.2f}": " / ".join(fmt.format(t[key]) for t in th)
    tr = f"{r.get('steps','')} / {r.get('train_s','')} / {r.get('stopped','')}" if r.get("steps") else "(same model)"
    print(f"| {r['tag']} | {r['ds']} | {r['seed']} | {r['frames']} | {'yes' if r['pass'] else 'no'} | {f('pose')} | {f('win')} | {f('bone')} | {f('speed')} | {f('frozen')} | {f('outside')} | {tr} |")
