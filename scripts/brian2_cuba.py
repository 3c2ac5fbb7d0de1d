#!/usr/bin/python3
"""CUBA (Vogels & Abbott 2005; Brette et al. 2007 benchmark 2) in Brian2, C++ standalone, for side-by-side timing.

Same parameters as Sim's BenchmarkNetworks.Cuba / examples/cuba.yaml: 4000 neurons (3200 exc), Bernoulli p = 0.02
(autapses allowed), tau_m 20, tau_e 5, tau_i 10 ms, V_t -50, V_r -60, E_L -49 mV, refractory 5 ms, w_e 1.62 mV,
w_i -9 mV, v0 ~ U(V_r, V_t), dt 0.1 ms, method 'exact', zero synaptic delay (Brian2 delivers in the next step,
Sim's delay of one tick).

For each seed the project is generated and compiled (not timed), then run; the time reported is Brian2's own
measurement of the simulation loop (device._last_run_time, written by the compiled binary), single thread.
Prints one line per seed: "seed S rate_hz R run_s T".
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

    import brian2 as b2
    from brian2 import ms, mV, second

    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # single thread
    root = a.workdir or tempfile.mkdtemp(prefix="brian2-cuba-")
    print(f"# brian2 {b2.__version__}, C++ standalone, openmp_threads 0, projects under {root}", flush=True)
    for s in a.seeds:
        b2.set_device("cpp_standalone", build_on_run=False, directory=os.path.join(root, f"seed{s}"))
        b2.device.reinit()
        b2.device.activate(build_on_run=False, directory=os.path.join(root, f"seed{s}"))
        b2.defaultclock.dt = 0.1 * ms
        b2.seed(s)
        taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
        Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
        eqs = """
        dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
        dge/dt = -ge/taue : volt
        dgi/dt = -gi/taui : volt
        """
        P = b2.NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
        P.v = "Vr + rand() * (Vt - Vr)"
        P.ge = 0 * mV
        P.gi = 0 * mV
        we = (60 * 0.27 / 10) * mV  # 1.62 mV
        wi = (-20 * 4.5 / 10) * mV  # -9 mV
        Ce = b2.Synapses(P, P, on_pre="ge += we")
        Ci = b2.Synapses(P, P, on_pre="gi += wi")
        Ce.connect("i<3200", p=0.02)
        Ci.connect("i>=3200", p=0.02)
        mon = b2.SpikeMonitor(P)
        net = b2.Network(P, Ce, Ci, mon)
        net.run(a.duration_s * second)
        b2.device.build(directory=os.path.join(root, f"seed{s}"), compile=True, run=True, debug=False)
        rate = mon.num_spikes / (4000 * a.duration_s)
        print(f"seed {s} rate_hz {rate:.4f} run_s {b2.device._last_run_time:.4f} synapses {len(Ce) + len(Ci)}", flush=True)
    if a.workdir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
