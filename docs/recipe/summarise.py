#!/usr/bin/env python3
"""Summarise compare.jsonl files of the recipe experiments (issue 21).

usage: summarise.py FILE.jsonl...

Prints, per recipe and run name, the final validation loss of every seed, the
gap of each progressive run to the fixed run of its seed, and the mixing time:
the steps after the expansion from which on the run's validation loss stays
within 1% of the fixed run's at every evaluation ("-" when it is not at the
end).
"""
import collections
import json
import statistics
import sys


def recipe_name(r):
    rc = r.get("recipe") or {}
    return "paper" if rc.get("muon_embed") else "sprout"


runs = []
for path in sys.argv[1:]:
    with open(path) as f:
        runs += [json.loads(line) for line in f if line.strip()]

fixed = {}
for r in runs:
    if r["name"] == "fixed":
        fixed[(recipe_name(r), r["recipe"]["lr"], r["steps"], r["seed"])] = r

rows = collections.defaultdict(dict)
for r in runs:
    key = (recipe_name(r), r["recipe"]["lr"], r["steps"], r["name"])
    rows[key][r["seed"]] = r

print("| steps | recipe | lr | run | seeds | final val loss per seed | mean | gap per seed | mean gap | FLOPs ratio | mixing time (steps after the expansion) |")
print("| ---: | --- | ---: | --- | --- | --- | ---: | --- | ---: | ---: | --- |")
for (rec, lr, steps, name), by_seed in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1], kv[0][3])):
    seeds = sorted(by_seed)
    losses = [by_seed[s]["final_val_loss"] for s in seeds]
    gaps, mix, ratio = [], [], ""
    for s in seeds:
        r = by_seed[s]
        f = fixed.get((rec, lr, steps, s))
        if name == "fixed" or f is None:
            continue
        gaps.append(100 * (r["final_val_loss"] / f["final_val_loss"] - 1))
        ratio = "%.2fx" % (f["flops"] / r["flops"])
        fv = {e["step"]: e["val_loss"] for e in f["evals"]}
        g = r["grow_step"] or 0
        t = None  # steps after the expansion from which on the run stays within 1%
        for e in r["evals"]:
            if e["step"] <= g or e["step"] not in fv:
                continue
            if e["val_loss"] > 1.01 * fv[e["step"]]:
                t = None
            elif t is None:
                t = e["step"] - g
        mix.append("-" if t is None else str(t))
    gap_s = " / ".join("%+.1f%%" % x for x in gaps)
    mean_gap = "%+.1f%%" % statistics.mean(gaps) if gaps else ""
    print("| %d | %s | %g | %s | %s | %s | %.4f | %s | %s | %s | %s |" % (
        steps, rec, lr, name, ",".join(map(str, seeds)), " / ".join("%.4f" % x for x in losses),
        statistics.mean(losses), gap_s, mean_gap, ratio, " / ".join(mix)))
