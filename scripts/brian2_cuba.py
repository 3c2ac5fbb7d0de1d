#!/usr/bin/python3
"""CUBA (Vogels & Abbott 2005; Brette et al. 2007 benchmark 2) in Brian2, C++ standalone, for side-by-side timing.

Same parameters as Sim's BenchmarkNetworks.Cuba / examples/cuba.yaml (docs/benchmarks.md): 4000 neurons (3200 exc),
Bernoulli p = 0.02 (autapses allowed), tau_m 20, tau_e 5, tau_i 10 ms, V_t -50, V_r -60, E_L -49 mV, refractory 5 ms,
w_e 1.62 mV, w_i -9 mV, v0 ~ U(V_r, V_t), dt 0.1 ms, method 'exact', zero synaptic delay (Brian2 delivers in the next
step, Sim's delay of one tick). Single thread; the time is Brian2's own measurement of the simulation loop.
Prints one line per seed: "seed S rate_hz R run_s T synapses N".
"""
import sys

from brian2_standalone import parse_args, run_seeds


def build(b2):
    from brian2 import ms, mV
    n, duration_s = 4000, ARGS.duration_s
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV,
              we=(60 * 0.27 / 10) * mV,  # 1.62 mV
              wi=(-20 * 4.5 / 10) * mV)  # -9 mV
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact", namespace=ns)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=ns)
    Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=ns)
    Ce.connect("i<3200", p=0.02)
    Ci.connect("i>=3200", p=0.02)
    mon = b2.SpikeMonitor(P)
    report = lambda run_s: (f"rate_hz {mon.num_spikes / (n * duration_s):.4f} run_s {run_s:.4f} "
                            f"synapses {len(Ce) + len(Ci)}")
    return b2.Network(P, Ce, Ci, mon), ns, report


if __name__ == "__main__":
    ARGS = parse_args(__doc__)
    sys.exit(run_seeds(ARGS, "brian2-cuba-", build))
