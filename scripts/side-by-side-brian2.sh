#!/usr/bin/env bash
# Side by side: the CUBA benchmark (docs/benchmarks.md) in Brian2 2.5.1 (C++ standalone, single thread) and in Sim,
# for the same seeds, in one invocation. Prints both mean rates with their spread across seeds, both wall times per
# simulated second and their ratio (Sim / Brian2).
#
# Timing: compile time is excluded on both sides. Brian2: device._last_run_time (the compiled binary's own timing of
# the simulation loop; project generation and the C++ build are not counted). Sim: the "wall time" line of
# `sim run` (the engine loop with its spike/rate/state monitors; excludes .NET start-up and network compilation).
# The two simulators use different random generators, so seed N gives a different network realisation on each side;
# the comparison is statistical.
#
# Validity criterion: the ratio is reported VOID when the mean rates disagree beyond the statistical spread,
#   |mean_sim - mean_brian| > 3 * sqrt(SE_sim^2 + SE_brian^2),   SE = SD / sqrt(number of seeds).
#
# Usage: scripts/side-by-side-brian2.sh [SEED ...]        (default seeds: 1 2 3 4 5)
#        DURATION_S=1.0 scripts/side-by-side-brian2.sh 1 2 3
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3                      # Debian's interpreter (python3-brian is installed for it)
DURATION_S=${DURATION_S:-1.0}
SEEDS=("$@"); [ ${#SEEDS[@]} -gt 0 ] || SEEDS=(1 2 3 4 5)

if ! "$PY" -c "import brian2" 2>/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "side-by-side: Brian2 is not installed for $PY, and installing it needs root." >&2
    echo "  Run as root (or ask an administrator): apt-get update && apt-get install -y python3-brian" >&2
    exit 1
  fi
  echo "side-by-side: installing Brian2 from Debian (python3-brian) ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-brian >&2
fi
command -v g++ >/dev/null || { echo "side-by-side: g++ is needed for Brian2's C++ standalone device (apt-get install -y g++)" >&2; exit 1; }

echo "side-by-side: building sim (Release) ..." >&2
dotnet build -c Release Cli/Sim.Cli.csproj -nologo -v q >&2
SIM=Cli/bin/Release/net10.0/linux-x64/sim
[ -x "$SIM" ] || { echo "side-by-side: $SIM not found after the build" >&2; exit 1; }

WORK=$(mktemp -d /tmp/side-by-side-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DURATION_MS=$("$PY" -c "print(float('$DURATION_S') * 1000)")

echo "side-by-side: Brian2 (generating and compiling one C++ project per seed; compile time not counted) ..." >&2
"$PY" scripts/brian2_cuba.py --seeds "${SEEDS[@]}" --duration-s "$DURATION_S" --workdir "$WORK/brian2" 2>/dev/null \
  | tee "$WORK/brian2.txt" >&2

echo "side-by-side: Sim ..." >&2
: > "$WORK/sim.txt"
# examples/cuba.yaml up to its monitors, then the spike monitor only (what brian2_cuba.py records).
sed '/^monitors:/,$d' examples/cuba.yaml > "$WORK/cuba-spikes.yaml"
printf 'monitors:\n  - kind: spikes\n    populations: [exc, inh]\n' >> "$WORK/cuba-spikes.yaml"
for s in "${SEEDS[@]}"; do
  out=$("$SIM" run "$WORK/cuba-spikes.yaml" --no-progress --no-plot --seed "$s" --duration-ms "$DURATION_MS" --out "$WORK/sim-runs")
  rate=$(awk '/^mean rate/ {print $3}' <<<"$out")
  wall=$(awk '/^wall time/ {print $3}' <<<"$out")
  syn=$(awk '/^synapses/ {gsub(",", "", $2); print $2}' <<<"$out")
  echo "seed $s rate_hz $rate run_s $wall synapses $syn" | tee -a "$WORK/sim.txt" >&2
done

"$PY" - "$WORK/brian2.txt" "$WORK/sim.txt" "$DURATION_S" <<'PYEOF'
import math, statistics, sys
def load(path):
    rows = [l.split() for l in open(path) if l.startswith("seed ")]
    return [(int(r[1]), float(r[3]), float(r[5]), int(r[7])) for r in rows]
b, s, T = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
if not b or not s:
    sys.exit("side-by-side: a simulator produced no results")
def stats(rows):
    rates = [r[1] for r in rows]; walls = [r[2] / T for r in rows]
    n = len(rates); m = statistics.fmean(rates); sd = statistics.stdev(rates) if n > 1 else float("nan")
    return dict(n=n, mean=m, sd=sd, se=sd / math.sqrt(n), wall_med=statistics.median(walls),
                wall_min=min(walls), wall_max=max(walls), syn=statistics.fmean(r[3] for r in rows))
B, S = stats(b), stats(s)
print()
print(f"CUBA, 4000 neurons, {T:g} s simulated, dt 0.1 ms, seeds {' '.join(str(r[0]) for r in s)}")
print(f"{'simulator':<34}{'seeds':>6}{'synapses':>11}{'mean rate Hz':>14}{'SD':>8}{'SE':>8}{'wall s / sim s (median [min, max])':>38}")
for name, X in (("Brian2 2.5.1 cpp_standalone, 1 thr", B), ("Sim EventEngine (sim run), 1 thr", S)):
    print(f"{name:<34}{X['n']:>6}{X['syn']:>11.0f}{X['mean']:>14.3f}{X['sd']:>8.3f}{X['se']:>8.3f}"
          f"{X['wall_med']:>18.4f} [{X['wall_min']:.4f}, {X['wall_max']:.4f}]")
delta = S["mean"] - B["mean"]; bound = 3 * math.sqrt(S["se"] ** 2 + B["se"] ** 2)
ratio = S["wall_med"] / B["wall_med"]
print(f"rate difference Sim - Brian2: {delta:+.3f} Hz; criterion |diff| <= 3*sqrt(SE_sim^2 + SE_brian^2) = {bound:.3f} Hz")
if not math.isfinite(bound) or abs(delta) > bound:
    print(f"ratio Sim/Brian2 wall time: VOID (rates disagree beyond 3 SE, or too few seeds); raw value would be {ratio:.2f}")
else:
    print(f"ratio Sim/Brian2 wall time per simulated s (medians): {ratio:.2f}  (>1: Sim slower)")
PYEOF

# For reference: the warmed-up engine alone (no monitors, JIT settled), when this build has `sim bench` wired in.
if "$SIM" bench --help >/dev/null 2>&1; then
  echo
  echo "For reference, sim bench (warm engine, no monitors, same network, seed 1):"
  "$SIM" bench --filter cuba
fi

