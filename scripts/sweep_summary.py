"""Summary of a store-and-recall sweep over seeds (results.csv of `sim sweep store-recall --seeds S`): mean ± standard
error over seeds of the final MSE and ΔS per (R, tau*), the best cells, and per tau* how often R = 3 beats each
intermediate R. Run: python3 scripts/sweep_summary.py DIR/results.csv   (standard library only)"""
import csv, math, statistics as st, sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else 'docs/sweep-5seeds/results.csv')))
mse, ds, lim = defaultdict(dict), defaultdict(dict), defaultdict(dict)
for r in rows:
    if not r['seed'].isdigit(): continue   # the 'mean' rows
    key = (r['r'], float(r['tau_star_dt']))
    mse[key][int(r['seed'])] = float(r['final_mse'])
    ds[key][int(r['seed'])] = float(r['final_delta_s'])
    lim[key][int(r['seed'])] = float(r['readout_limit'])
order = lambda r: (1e9 if r == 'ltts' else int(r))
ranks = sorted({k[0] for k in mse}, key=order)
taus = sorted({k[1] for k in mse})
se = lambda x: st.stdev(x) / math.sqrt(len(x)) if len(x) > 1 else float('nan')
seeds = sorted({s for v in mse.values() for s in v})
print(f'{sum(r["seed"].isdigit() for r in rows)} cells, seeds {seeds[0]}..{seeds[-1]}, {len(ranks)} rows x {len(taus)} tau*')
print('\nfinal MSE, mean ± SE over seeds (rows R, columns tau*/dt)')
print('| R | ' + ' | '.join(f'{t:.3g}' for t in taus) + ' |')
print('|---|' + '---|' * len(taus))
for r in ranks:
    print(f'| {r} | ' + ' | '.join(f'{st.mean(mse[(r, t)].values()):.4f} ± {se(list(mse[(r, t)].values())):.4f}' for t in taus) + ' |')
print('\nfinal ΔS, mean over seeds')
print('| R | ' + ' | '.join(f'{t:.3g}' for t in taus) + ' |')
print('|---|' + '---|' * len(taus))
for r in ranks:
    print(f'| {r} | ' + ' | '.join(f'{st.mean(ds[(r, t)].values()):.0f}' for t in taus) + ' |')
print('\nreadout limit, mean over seeds, per tau*/dt: ' + ', '.join(f'{t:.3g}: {st.mean(lim[(ranks[0], t)].values()):.4f}' for t in taus))
cells = sorted(((st.mean(v.values()), k) for k, v in mse.items()))
print('\nbest 8 cells (mean final MSE): ' + '; '.join(f'R={k[0]} tau*={k[1]:.3g}: {m:.4f}' for m, k in cells[:8]))
print('per tau*, the best R: ' + '; '.join(f'{t:.3g}: R={min(ranks, key=lambda r: st.mean(mse[(r, t)].values()))}' for t in taus))
col1 = min(taus)
print(f'tau*/dt = {col1:.3g}: rank of its mean MSE among the {len(taus)} tau* columns, per R: ' +
      ', '.join(f'{r}: {1 + sorted(st.mean(mse[(r, t)].values()) for t in taus)[::-1].index(st.mean(mse[(r, col1)].values()))}' for r in ranks) +
      ' (1 = worst)')
inter = [r for r in ranks if r not in ('3', 'ltts') and int(r) <= 101]
print('\nR = 3 beats R (seeds where its final MSE is lower, of ' + str(len(seeds)) + '), per tau*/dt:')
for t in taus:
    wins = {r: sum(mse[('3', t)][s] < mse[(r, t)][s] for s in seeds) for r in inter}
    print(f'  {t:.3g}: ' + ', '.join(f'{r}: {w}' for r, w in wins.items()))
