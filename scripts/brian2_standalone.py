"""The driver both Brian2 benchmark scripts share (brian2_cuba.py, brian2_coba.py).

Per seed: a fresh C++ standalone project (single thread, dt 0.1 ms, brian2.seed(seed)), the network built by the
caller, generated, compiled and run (compilation not timed). The time reported is Brian2's own measurement of the
simulation loop (device._last_run_time, written by the compiled binary).
"""
import argparse
import os
import shutil
import tempfile


def parse_args(doc):
    """The options every script takes: --seeds, --duration-s, --workdir."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--duration-s", type=float, default=1.0)
    ap.add_argument("--workdir", default=None, help="where to generate the C++ projects (default: a temporary folder)")
    return ap.parse_args()


def run_seeds(args, prefix, build):
    """For each seed: build(b2) -> (network, namespace, report); runs it; prints "seed S " + report(run_s)."""
    import brian2 as b2
    from brian2 import ms, second

    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # single thread
    root = args.workdir or tempfile.mkdtemp(prefix=prefix)
    print(f"# brian2 {b2.__version__}, C++ standalone, openmp_threads 0, projects under {root}", flush=True)
    for s in args.seeds:
        directory = os.path.join(root, f"seed{s}")
        b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
        b2.device.reinit()
        b2.device.activate(build_on_run=False, directory=directory)
        b2.defaultclock.dt = 0.1 * ms
        b2.seed(s)
        net, namespace, report = build(b2)
        net.run(args.duration_s * second, namespace=namespace)
        b2.device.build(directory=directory, compile=True, run=True, debug=False)
        print(f"seed {s} {report(b2.device._last_run_time)}", flush=True)
    if args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
