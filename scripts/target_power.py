"""Distribution of the store-and-recall target's power under the recipe of docs/tasks/store_recall.md, against the
targets of seeds 1-30 (docs/store-recall-authors/readout-limit-30.csv): Kolmogorov-Smirnov distance and tail counts.
Run: python3 scripts/target_power.py   (standard library only, about 30 s)"""
import bisect, csv, math, random, sys

T, OUT, FREQ, OFF = 150, 3, (1, 2, 3, 5), 8
t = [2 * math.pi * i / (T - 1) for i in range(T)]

def draw(rng):
    ys = []
    for _ in range(OUT):
        a = [rng.random() for _ in FREQ]; p = [rng.random() * 2 * math.pi for _ in FREQ]
        ys.append([0.0 if i < OFF else sum(ak * math.sin(f * t[i] + pk) for ak, f, pk in zip(a, FREQ, p)) for i in range(T)])
    m = max(max(y) for y in ys)                      # the signed global maximum, as in the recipe
    return sum(v * v for y in ys for v in y) / (OUT * T) / (m * m), min(min(y) for y in ys) / m

rng = random.Random(1)
sample = [draw(rng) for _ in range(20000)]
power = sorted(s[0] for s in sample)
path = sys.argv[1] if len(sys.argv) > 1 else 'docs/store-recall-authors/readout-limit-30.csv'
rows = list(csv.DictReader(open(path)))
ours = sorted(float(r['target_mean_square']) for r in rows)
n = len(ours)
cdf = lambda v: bisect.bisect(power, v) / len(power)
d = max(max(abs(cdf(v) - (i + 1) / n), abs(cdf(v) - i / n)) for i, v in enumerate(ours))
print(f'KS D = {d:.3f} (5 % critical value for n = {n}: {1.36 / math.sqrt(n):.3f})')
print(f'mean y*^2 > 0.2: {sum(v > 0.2 for v in ours)}/{n}, expected {n * (1 - cdf(0.2)):.1f}')
print(f'P(min < -1.19) = {sum(s[1] < -1.19 for s in sample) / len(sample):.3f}; ours '
      f'{sum(float(r["target_min"]) < -1.19 for r in rows)}/{n}')
