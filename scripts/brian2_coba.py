#!/usr/bin/python3
"""COBA (Vogels & Abbott 2005; Brette et al. 2007 benchmark 1) in Brian2, C++ standalone: rates to compare with Sim.

Same network as Sim's BenchmarkNetworks.Coba / examples/coba.yaml: 4000 neurons (3200 exc), Bernoulli p = 0.02
(autapses allowed), tau_m 20, tau_e 5, tau_i 10 ms, E_L = V_r = -60, V_t -50, E_e 0, E_i -80 mV, refractory 5 ms,
conductance increments w_e 0.6 and w_i 6.7 (units of the leak conductance), v0 ~ N(-65, 5) mV, g_e0 ~ N(4, 1.5),
g_i0 ~ N(20, 12), dt 0.1 ms, method 'euler' (the benchmark's scheme; Sim integrates v by Euler too but decays the
conductances exactly, a relative difference of 2e-4 per step in their decay), zero synaptic delay (Brian2 delivers in
the next step, Sim's delay of one tick). The seeds give different realisations on each side (different random
generators): compare rates over seeds, not spikes.

Prints one line per seed: "seed S rate_hz R exc_hz E inh_hz I cv C run_s T".
"""
import argparse
import os
import shutil
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--duration-s", type=float, default=1.0)
    ap.add_argument("--workdir", default=None, help="where to generate the C++ projects (default: a temporary folder)")
    a = ap.parse_args()

    import numpy as np
    import brian2 as b2
    from brian2 import ms, mV, second

    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # single thread
    root = a.workdir or tempfile.mkdtemp(prefix="brian2-coba-")
    print(f"# brian2 {b2.__version__}, C++ standalone, projects under {root}", flush=True)
    for s in a.seeds:
        b2.set_device("cpp_standalone", build_on_run=False, directory=os.path.join(root, f"seed{s}"))
        b2.device.reinit()
        b2.device.activate(build_on_run=False, directory=os.path.join(root, f"seed{s}"))
        b2.defaultclock.dt = 0.1 * ms
        b2.seed(s)
        taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
        Vt, Vr, El, Ee, Ei = -50 * mV, -60 * mV, -60 * mV, 0 * mV, -80 * mV
        eqs = """
        dv/dt  = (ge*(Ee-v) + gi*(Ei-v) - (v-El))/taum : volt (unless refractory)
        dge/dt = -ge/taue : 1
        dgi/dt = -gi/taui : 1
        """
        P = b2.NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="euler")
        P.v = "-65*mV + 5*mV*randn()"
        P.ge = "4 + 1.5*randn()"
        P.gi = "20 + 12*randn()"
        Ce = b2.Synapses(P, P, on_pre="ge += 0.6")
        Ci = b2.Synapses(P, P, on_pre="gi += 6.7")
        Ce.connect("i<3200", p=0.02)
        Ci.connect("i>=3200", p=0.02)
        mon = b2.SpikeMonitor(P)
        net = b2.Network(P, Ce, Ci, mon)
        net.run(a.duration_s * second)
        b2.device.build(directory=os.path.join(root, f"seed{s}"), compile=True, run=True, debug=False)
        ids = np.asarray(mon.i)
        t = np.asarray(mon.t / second)
        exc = np.count_nonzero(ids < 3200) / (3200 * a.duration_s)
        inh = np.count_nonzero(ids >= 3200) / (800 * a.duration_s)
        cvs = []
        for k in np.unique(ids):
            ts = np.sort(t[ids == k])
            if len(ts) >= 4:
                isi = np.diff(ts)
                cvs.append(isi.std() / isi.mean())
        cv = float(np.mean(cvs)) if cvs else float("nan")
        print(f"seed {s} rate_hz {len(ids) / (4000 * a.duration_s):.4f} exc_hz {exc:.4f} inh_hz {inh:.4f} cv {cv:.4f} "
              f"run_s {b2.device._last_run_time:.4f}", flush=True)
    if a.workdir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
