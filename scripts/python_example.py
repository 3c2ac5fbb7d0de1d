#!/usr/bin/env python3
"""Reading every output of `sim run` with h5py and numpy, and writing a network file from Python (docs/python.md).

    python3 scripts/python_example.py network OUT.yaml   write a small E/I network driven by Poisson input
    sim run OUT.yaml --nwb                               run it; the run folder is printed at the end
    python3 scripts/python_example.py read RUN_DIR       read config.yaml, run.h5, spikes.bin and run.nwb; check they agree
    python3 scripts/python_example.py csv FILE.csv       read a task's CSV (e.g. a sweep's results.csv)

Needs numpy, and h5py for `read` (Debian: apt-get install python3-numpy python3-h5py); no YAML module: the network
file is written as text. Exit status: 0 ok, 1 the outputs disagree, 2 bad arguments.
"""
import csv
import os
import struct
import sys
import zlib

import numpy as np


# ---- writing a network file -------------------------------------------------------------------------------------

def num(x):
    """A number as YAML: repr round-trips a float exactly."""
    return repr(float(x))


def flow(values):
    """A list as a YAML flow sequence: one value per element (neuron, source or synapse)."""
    return "[" + ", ".join(num(v) for v in values) + "]"


def network_yaml(n_exc=400, n_inh=100, seed=7, duration_ms=300.0):
    """A CUBA-like network (docs/network-file.md) whose initial potentials are drawn here, with numpy."""
    rng = np.random.default_rng(seed)
    v_init = rng.uniform(-60.0, -50.0, n_exc + n_inh)
    p = 0.1
    w_exc = 1.62 * 64 / (p * n_exc)          # CUBA's input per neuron (64 exc, 16 inh inputs) at this size
    w_inh = -9.0 * 16 / (p * n_inh)

    def lif(v):
        return ("{tau_mem_ms: 20, tau_exc_ms: 5, tau_inh_ms: 10, e_leak_mv: -49, v_threshold_mv: -50, v_reset_mv: -60, "
                f"refractory_ms: 5, v_init_mv: {flow(v)}}}")

    lines = [
        "# written by scripts/python_example.py",
        "name: py-ei",
        f"run: {{dt_ms: 0.1, duration_ms: {num(duration_ms)}, seed: {seed}}}",
        "populations:",
        f"  - {{name: exc, size: {n_exc}, model: lif_exp, params: {lif(v_init[:n_exc])}}}",
        f"  - {{name: inh, size: {n_inh}, model: lif_exp, params: {lif(v_init[n_exc:])}}}",
        "inputs:",
        "  - {name: drive, kind: poisson, size: 50, rate_hz: 10}",
        "projections:",
    ]
    for target in ("exc", "inh"):
        lines.append(f"  - {{source: exc, target: {target}, connectivity: {{rule: fixed_probability, p: {p}}}, weight: {num(w_exc)}}}")
        lines.append(f"  - {{source: inh, target: {target}, connectivity: {{rule: fixed_probability, p: {p}}}, weight: {num(w_inh)}}}")
        lines.append(f"  - {{source: drive, target: {target}, connectivity: {{rule: fixed_in_degree, k: 5}}, weight: 2.0}}")
    lines += [
        "monitors:",
        "  - {kind: spikes}",
        "  - {kind: state, population: exc, variables: [v_mv], indices: [0, 1, 2, 3], interval_ms: 1}",
        "  - {kind: rate, population: exc, bin_ms: 5}",
    ]
    return "\n".join(lines) + "\n"


# ---- reading the outputs ----------------------------------------------------------------------------------------

def read_run_h5(path):
    """run.h5 (docs/output-format.md): metadata, config, spikes as (instance, global id, tick), state, rates, summary."""
    import h5py
    with h5py.File(path, "r") as f:
        a = f.attrs
        dt = float(a["dt_ms"])
        print(f"run.h5: network {a['network']!r}, engine {a.get('engine', '?')!r}, seed {a['seed']}, dt {dt} ms, "
              f"{a['start_ms']}..{a['duration_ms']} ms, batch {a['batch']} from instance {a['first_instance']}, status {a['status']!r}")
        spikes = []
        for pop, g in f["spikes"].items():
            t, ids, inst = g["times_ms"][()], g["neuron_ids"][()], g["instance"][()]
            print(f"run.h5: {pop}: {t.size} spikes of {g.attrs['size']} neurons")
            spikes.append(np.stack([inst, ids + g.attrs["offset"], np.rint(t / dt).astype(np.int64)], axis=1))
        for pop, g in f["state"].items():
            for var in (k for k in g if k not in ("times_ms", "neuron_ids")):
                v = g[var][()]                                   # [batch, samples, neurons]
                print(f"run.h5: state {pop}/{var}: {v.shape[1]} samples of neurons {list(g['neuron_ids'][()])}, "
                      f"mean {np.nanmean(v):.3f}, every {g.attrs['interval_ms']} ms")
        for pop, g in f["rates"].items():
            r = g["rate_hz"][()]                                 # [batch, bins]
            print(f"run.h5: rate {pop}: {r.shape[1]} bins of {g.attrs['bin_ms']} ms, mean {np.nanmean(r):.3f} Hz")
        for pop, g in f["summary"].items():
            print(f"run.h5: summary {pop}: mean rate {g['mean_rate_hz'][()]} Hz, ISI CV {g['isi_cv'][()]}")
        return str(a["config"]), dt, np.concatenate(spikes) if spikes else np.zeros((0, 3), np.int64)


def read_spikes_bin(path):
    """spikes.bin (docs/output-format.md): header, then CRC-checked records; stops at a torn or corrupt record."""
    b = open(path, "rb").read()
    if b[:8] != b"SIMSPIKE":
        raise ValueError(f"{path}: not a spike stream")
    p = 8
    version, dt, first, batch, npop = struct.unpack_from("<idiii", b, p)
    p += 24
    pops = []
    for _ in range(npop):
        offset, size, recorded, n = struct.unpack_from("<iiii", b, p)
        p += 16
        pops.append((b[p:p + n].decode(), offset, size, bool(recorded)))
        p += n
    parts, records = [], 0
    while p + 12 <= len(b):
        magic, inst, count = struct.unpack_from("<Iii", b, p)
        end = p + 16 + 12 * count
        if magic != 0x4B4E4843 or end > len(b) or struct.unpack_from("<I", b, end - 4)[0] != zlib.crc32(b[p + 4:end - 4]):
            print(f"spikes.bin: torn or corrupt after {records} records")
            break
        ticks = np.frombuffer(b, "<i8", count, p + 12)
        ids = np.frombuffer(b, "<i4", count, p + 12 + 8 * count)
        parts.append(np.stack([np.full(count, inst), ids, ticks], axis=1))
        records += 1
        p = end
    print(f"spikes.bin: version {version}, dt {dt} ms, batch {batch}, populations {[q[0] for q in pops]}, {records} records")
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)


def read_run_nwb(path, dt):
    """run.nwb (NWB 2.x) with plain h5py: the units table and the state TimeSeries. pynwb reads it too (docs/python.md)."""
    import h5py
    with h5py.File(path, "r") as f:
        print(f"run.nwb: NWB {f.attrs['nwb_version']}, {f['session_description'][()].decode()}")
        u = f["units"]
        end = u["spike_times_index"][()].astype(np.int64)         # row r: spike_times[end[r-1]:end[r]]
        counts = np.diff(np.concatenate([[0], end]))
        times_s = u["spike_times"][()]
        rows = np.repeat(np.arange(end.size), counts)              # the row of each spike
        ticks = np.rint(times_s * 1000.0 / dt).astype(np.int64)
        for name, ts in f["acquisition"].items():
            data = ts["data"]
            print(f"run.nwb: TimeSeries {name}: {data.shape} in {data.attrs['unit']} x {data.attrs['conversion']}, "
                  f"{ts['timestamps'].shape[0]} timestamps (s)")
        return np.stack([u["instance"][()][rows], u["global_id"][()][rows], ticks], axis=1)


def canonical(spikes):
    """Spikes as (instance, global id, tick), sorted: the same set in any order compares equal."""
    return spikes[np.lexsort((spikes[:, 1], spikes[:, 2], spikes[:, 0]))].astype(np.int64)


def read(run_dir):
    config_yaml = open(os.path.join(run_dir, "config.yaml"), encoding="utf-8").read()
    config, dt, h5 = read_run_h5(os.path.join(run_dir, "run.h5"))
    print(f"config.yaml: {len(config_yaml.splitlines())} lines, {'equal to' if config == config_yaml else 'DIFFERENT from'} run.h5's config")
    sources = {"run.h5": canonical(h5)}
    if os.path.exists(os.path.join(run_dir, "spikes.bin")):
        sources["spikes.bin"] = canonical(read_spikes_bin(os.path.join(run_dir, "spikes.bin")))
    if os.path.exists(os.path.join(run_dir, "run.nwb")):
        sources["run.nwb"] = canonical(read_run_nwb(os.path.join(run_dir, "run.nwb"), dt))
    for name, s in sources.items():
        print(f"{name}: {s.shape[0]} spikes")
    same = config == config_yaml and all(np.array_equal(s, sources["run.h5"]) for s in sources.values())
    print(("agree: " if same else "DISAGREE: ") + ", ".join(sources) + f" hold {'the same' if same else 'different'} "
          f"{sources['run.h5'].shape[0]} spikes")
    return 0 if same else 1


def read_csv(path):
    """A task CSV (header row, comma-separated, text fields quoted where they hold commas) with the csv module."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0]) if rows else []
    print(f"csv: {len(rows)} rows, columns {columns}")
    for c in columns:
        try:
            values = np.array([float(r[c]) for r in rows])
        except ValueError:
            continue                                                # a text column
        print(f"csv: {c}: min {values.min():.6g}, max {values.max():.6g}")
    return 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("network", "read", "csv"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    command, path = argv[1], argv[2]
    if command == "network":
        with open(path, "w", encoding="utf-8") as f:
            f.write(network_yaml())
        print(f"wrote {path}; run it with: sim run {path} --nwb")
        return 0
    if not os.path.exists(path):
        print(f"python_example.py: '{path}' does not exist", file=sys.stderr)
        return 2
    return read(path) if command == "read" else read_csv(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
