#!/usr/bin/env python3
"""Early learning of store-and-recall cells: MSE at a few epochs, averaged over seeds, with the step scale eta*||D||_2.

Usage: scripts/early_learning.py DIR [DIR ...]
Each DIR is a `sim sweep store-recall` output folder (its cells/*.json). Prints one row per (folder, R, tau*):
the learning rate, ||D||_2, eta*||D||_2, and the MSE averaged over a 5-epoch window ending at each listed epoch
(and over the seeds present), so that "which R drops faster at first" can be read directly.
"""
import glob, json, os, sys, statistics

EPOCHS = [1, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000]

def window(mse, e):
    e = min(e, len(mse))
    lo = max(0, e - 5)
    return statistics.fmean(mse[lo:e])

rows = {}
for d in sys.argv[1:]:
    for f in sorted(glob.glob(os.path.join(d, "cells", "*.json"))):
        c = json.load(open(f))
        key = (os.path.basename(os.path.normpath(d)), c["Row"], round(c["TauStarDt"], 2))
        rows.setdefault(key, []).append(c)

header = f"{'folder':<16}{'R':>6}{'tau*':>7}{'seeds':>6}{'eta':>9}{'||D||2':>9}{'eta*||D||2':>11}" + "".join(f"{'@' + str(e):>9}" for e in EPOCHS)
print(header)
def order(k):
    return (k[0], 10**6 if k[1] == "ltts" else int(k[1]), k[2])
for key in sorted(rows, key=order):
    cells = rows[key]
    n = min(len(c["Mse"]) for c in cells)
    eta = statistics.fmean(c["Eta"] for c in cells)
    dn = statistics.fmean(c.get("FeedbackNorm", 0.0) for c in cells)
    vals = []
    for e in EPOCHS:
        vals.append(f"{statistics.fmean(window(c['Mse'], e) for c in cells):>9.4f}" if e <= n else f"{'':>9}")
    print(f"{key[0]:<16}{key[1]:>6}{key[2]:>7}{len(cells):>6}{eta:>9.3f}{dn:>9.1f}{eta * dn:>11.1f}" + "".join(vals))
