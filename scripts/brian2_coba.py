#!/usr/bin/python3
"""COBA (Vogels & Abbott 2005; Brette et al. 2007 benchmark 1) in Brian2, C++ standalone: rates to compare with Sim.

Same network as Sim's BenchmarkNetworks.Coba / examples/coba.yaml (docs/benchmarks.md): 4000 neurons (3200 exc),
Bernoulli p = 0.02 (autapses allowed), tau_m 20, tau_e 5, tau_i 10 ms, E_L = V_r = -60, V_t -50, E_e 0, E_i -80 mV,
refractory 5 ms, conductance increments w_e 0.6 and w_i 6.7 (units of the leak conductance), v0 ~ N(-65, 5) mV,
g_e0 ~ N(4, 1.5), g_i0 ~ N(20, 12), dt 0.1 ms, method 'euler' (the benchmark's scheme; Sim integrates v by Euler too
but decays the conductances exactly, a relative difference of 2e-4 per step in their decay), zero synaptic delay
(Brian2 delivers in the next step, Sim's delay of one tick). The seeds give different realisations on each side
(different random generators): compare rates over seeds, not spikes.
Prints one line per seed: "seed S rate_hz R exc_hz E inh_hz I cv C run_s T".
"""
import sys

from brian2_standalone import parse_args, run_seeds


def mean_isi_cv(ids, t):
    """Mean ISI coefficient of variation over the neurons with at least 4 spikes."""
    import numpy as np
    cvs = []
    for k in np.unique(ids):
        ts = np.sort(t[ids == k])
        if len(ts) >= 4:
            isi = np.diff(ts)
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


def build(b2):
    import numpy as np
    from brian2 import ms, mV, second
    n, duration_s = 4000, ARGS.duration_s
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-60 * mV, Ee=0 * mV, Ei=-80 * mV)
    eqs = """
    dv/dt  = (ge*(Ee-v) + gi*(Ei-v) - (v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : 1
    dgi/dt = -gi/taui : 1
    """
    P = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="euler", namespace=ns)
    P.v = "-65*mV + 5*mV*randn()"
    P.ge = "4 + 1.5*randn()"
    P.gi = "20 + 12*randn()"
    Ce = b2.Synapses(P, P, on_pre="ge += 0.6")
    Ci = b2.Synapses(P, P, on_pre="gi += 6.7")
    Ce.connect("i<3200", p=0.02)
    Ci.connect("i>=3200", p=0.02)
    mon = b2.SpikeMonitor(P)

    def report(run_s):
        ids, t = np.asarray(mon.i), np.asarray(mon.t / second)
        exc = np.count_nonzero(ids < 3200) / (3200 * duration_s)
        inh = np.count_nonzero(ids >= 3200) / (800 * duration_s)
        return (f"rate_hz {len(ids) / (n * duration_s):.4f} exc_hz {exc:.4f} inh_hz {inh:.4f} "
                f"cv {mean_isi_cv(ids, t):.4f} run_s {run_s:.4f}")

    return b2.Network(P, Ce, Ci, mon), ns, report


if __name__ == "__main__":
    ARGS = parse_args(__doc__)
    sys.exit(run_seeds(ARGS, "brian2-coba-", build))
