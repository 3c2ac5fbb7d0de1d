#!/usr/bin/env python3
"""Validates a run.nwb written by `sim run --nwb` and, given run.h5, checks that both hold the same spikes and state.

    python3 scripts/validate_nwb.py RUN.nwb [--h5 RUN.h5] [--self-test]

Needs h5py, numpy and hdmf (Debian: apt-get install python3-h5py python3-numpy python3-hdmf). What is checked:

1. hdmf: every object of the hdmf-common namespace (VectorData, VectorIndex, ElementIdentifiers) and every table of
   the NWB core namespace (Units, as the DynamicTable it extends) is validated by hdmf's own validator against the
   hdmf-common schema shipped with hdmf (read with NWB's type keys `neurodata_type` / `neurodata_type_def`, as NWB
   files spell them). hdmf carries no NWB core schema and pynwb is not packaged in Debian, so:
2. NWB core: the requirements of the NWB 2.7.0 core schema (nwb.file.yaml: NWBFile; nwb.base.yaml: TimeSeries;
   nwb.misc.yaml: Units; nwb.device.yaml: Device) for what sim writes are checked with h5py: required datasets,
   groups and attributes, their dtypes and shapes, ISO 8601 dates with a time zone, object ids, the ragged
   spike_times index. A neurodata type this list does not know is an error, never passed unchecked.
3. With --h5: every spike (population, neuron, instance, time) and every state sample equals run.h5's, times
   exactly: t_s = float(repr(t_ms) + "e-3") (the ms decimal shifted; grid engines) or t_ms / 1000 (precise engine).
4. With --self-test: copies of the file are broken on purpose (a required dataset removed, a column's description
   removed, the index of the wrong dtype, the id column removed, a unit attribute removed, an object id removed,
   one spike moved by one ulp) and each copy must be rejected.

Exit status: 0 valid (and equal), 1 invalid or different (the errors are printed), 2 bad arguments, 3 a module is missing.
"""
import os
import shutil
import sys
import tempfile
import uuid
from datetime import datetime

try:
    import h5py
    import numpy as np
    import hdmf.common
    from hdmf.backends.hdf5 import HDF5IO
    from hdmf.build import GroupBuilder
    from hdmf.spec import GroupSpec, DatasetSpec, NamespaceCatalog, SpecNamespace
    from hdmf.validate import ValidatorMap
except ImportError as e:
    print(f"missing module: {e.name} (Debian: apt-get install python3-h5py python3-numpy python3-hdmf)", file=sys.stderr)
    sys.exit(3)


class _NwbKeys:
    """Spec classes that read hdmf-common with the type keys NWB files use (`neurodata_type`, not `data_type`)."""

    @classmethod
    def type_key(cls):
        return "neurodata_type"

    @classmethod
    def def_key(cls):
        return "neurodata_type_def"

    @classmethod
    def inc_key(cls):
        return "neurodata_type_inc"

    @classmethod
    def build_const_args(cls, spec_dict):
        spec_dict = dict(spec_dict)
        for plain, nwb in (("data_type_def", "neurodata_type_def"), ("data_type_inc", "neurodata_type_inc")):
            if nwb in spec_dict:
                spec_dict[plain] = spec_dict.pop(nwb)
        return super().build_const_args(spec_dict)


class NwbDatasetSpec(_NwbKeys, DatasetSpec):
    pass


class NwbGroupSpec(_NwbKeys, GroupSpec):
    @classmethod
    def dataset_spec_cls(cls):
        return NwbDatasetSpec


COMMON_SCHEMA = os.path.join(os.path.dirname(hdmf.common.__file__), "hdmf-common-schema", "common", "namespace.yaml")
# Core types whose hdmf-common parent the hdmf validator checks them against.
CORE_TABLES = {"Units": "DynamicTable"}
# The neurodata types this validator knows (what sim writes), by namespace.
KNOWN = {"core": {"NWBFile", "Device", "Units", "TimeSeries"}, "hdmf-common": {"VectorData", "VectorIndex", "ElementIdentifiers"}}
# NWB 2.7.0 core, nwb.file.yaml: the required root datasets (dtype, rank) and groups; the optional text datasets of /general.
ROOT_DATASETS = {"file_create_date": ("isodatetime", 1), "identifier": ("text", 0), "session_description": ("text", 0),
                 "session_start_time": ("isodatetime", 0), "timestamps_reference_time": ("isodatetime", 0)}
ROOT_GROUPS = ["acquisition", "analysis", "processing", "stimulus", "stimulus/presentation", "stimulus/templates", "general"]
GENERAL_TEXT = {"data_collection", "experiment_description", "experimenter", "institution", "keywords", "lab", "notes",
                "pharmacology", "protocol", "related_publications", "session_id", "slices", "source_script", "stimulus",
                "surgery", "virus"}


def hdmf_check(path):
    """Errors of hdmf's validator over the hdmf-common objects and core tables of the file; (errors, objects validated)."""
    catalog = NamespaceCatalog(NwbGroupSpec, NwbDatasetSpec, SpecNamespace)
    catalog.load_namespaces(COMMON_SCHEMA)
    namespace = catalog.get_namespace("hdmf-common")
    vmap = ValidatorMap(namespace)
    errors, count = [], 0
    io = HDF5IO(path, mode="r")
    try:
        root = io.read_builder()
        stack = [root]
        while stack:
            b = stack.pop()
            if isinstance(b, GroupBuilder):
                stack.extend(b.groups.values())
                stack.extend(b.datasets.values())
            ns, dt = b.attributes.get("namespace"), b.attributes.get("neurodata_type")
            if ns == "hdmf-common":
                errors += [str(e) for e in vmap.validate(b)]
                count += 1
            elif ns == "core" and dt in CORE_TABLES:
                errors += [str(e) for e in vmap.get_validator(CORE_TABLES[dt]).validate(b)]
                count += 1
        return sorted(set(errors)), count, namespace.version
    finally:
        io.close()


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def is_text(ds):
    return h5py.check_string_dtype(ds.dtype) is not None


def iso_error(value):
    try:
        t = datetime.fromisoformat(text(value))
    except ValueError as e:
        return f"not ISO 8601: {e}"
    return None if t.tzinfo is not None else "has no time zone"


def core_check(f):
    """Errors against the NWB 2.7.0 core requirements of what sim writes, checked with h5py."""
    errors = []
    err = errors.append
    if text(f.attrs.get("namespace")) != "core" or text(f.attrs.get("neurodata_type")) != "NWBFile":
        err("/: namespace 'core' and neurodata_type 'NWBFile' are required")
    version = text(f.attrs.get("nwb_version", ""))
    if not (isinstance(version, str) and version.startswith("2.")):
        err(f"/: nwb_version must be an NWB 2.x version, got {version!r}")
    for name, (dtype, rank) in ROOT_DATASETS.items():
        if name not in f or not isinstance(f[name], h5py.Dataset):
            err(f"/{name}: required dataset missing")
            continue
        ds = f[name]
        if not is_text(ds) or ds.ndim != rank:
            err(f"/{name}: must be {'a 1-D array of' if rank else 'a scalar'} text, got {ds.dtype} of shape {ds.shape}")
            continue
        if dtype == "isodatetime":
            for v in (ds[()] if rank else [ds[()]]):
                if (problem := iso_error(v)) is not None:
                    err(f"/{name}: {text(v)!r} {problem}")
    for name in ROOT_GROUPS:
        if name not in f or not isinstance(f[name], h5py.Group):
            err(f"/{name}: required group missing")

    ids = {}

    def visit(name, obj):
        if name and h5py.h5o.get_info(obj.id).rc > 1:
            err(f"/{name}: hard-linked from another path too (hdmf and pynwb would read one path as a link)")
        ns, dt = text(obj.attrs.get("namespace")), text(obj.attrs.get("neurodata_type"))
        if ns is None and dt is None:
            return
        if dt not in KNOWN.get(ns, ()):
            err(f"/{name}: neurodata type {ns}:{dt} is not one this validator checks")
        oid = text(obj.attrs.get("object_id"))
        try:
            uuid.UUID(oid)
        except (TypeError, ValueError):
            err(f"/{name}: {dt} needs an object_id (a UUID), got {oid!r}")
        if oid in ids:
            err(f"/{name}: object_id {oid} is also that of /{ids[oid]}")
        ids[oid] = name
    visit("", f)
    f.visititems(visit)
    if "object_id" not in f.attrs:
        err("/: NWBFile needs an object_id")

    general = f.get("general")
    if isinstance(general, h5py.Group):
        for name, obj in general.items():
            if name == "devices":
                for dev_name, dev in obj.items():
                    if text(dev.attrs.get("neurodata_type")) != "Device":
                        err(f"/general/devices/{dev_name}: must be a Device")
            elif name in GENERAL_TEXT:
                if not isinstance(obj, h5py.Dataset) or not is_text(obj):
                    err(f"/general/{name}: must be text")
            else:
                err(f"/general/{name}: not a field of /general this validator checks")
        if "source_script" in general and "file_name" not in general["source_script"].attrs:
            err("/general/source_script: the attribute file_name is required")
    for name, obj in f.get("acquisition", {}).items():
        if text(obj.attrs.get("neurodata_type")) == "TimeSeries":
            errors += timeseries_check(f"/acquisition/{name}", obj)
        else:
            err(f"/acquisition/{name}: must be a TimeSeries here (an NWBDataInterface)")
    if "units" in f:
        errors += units_check(f["units"])
    return errors


def timeseries_check(path, g):
    errors = []
    err = errors.append
    if "data" not in g:
        return [f"{path}/data: required dataset missing"]
    data = g["data"]
    if not 1 <= data.ndim <= 4:
        err(f"{path}/data: must have 1 to 4 dimensions, has {data.ndim}")
    if "unit" not in data.attrs or not isinstance(text(data.attrs["unit"]), str):
        err(f"{path}/data: the text attribute unit is required")
    for a in ("conversion", "offset", "resolution"):
        if a in data.attrs and not np.issubdtype(np.asarray(data.attrs[a]).dtype, np.floating):
            err(f"{path}/data: attribute {a} must be a float")
    for a in ("description", "comments"):
        if a in g.attrs and not isinstance(text(g.attrs[a]), str):
            err(f"{path}: attribute {a} must be text")
    if "timestamps" in g:
        ts = g["timestamps"]
        if ts.dtype != np.float64 or ts.ndim != 1 or ts.shape[0] != data.shape[0]:
            err(f"{path}/timestamps: must be float64 [num_times = {data.shape[0]}], got {ts.dtype} {ts.shape}")
        if ts.attrs.get("interval") != 1 or text(ts.attrs.get("unit")) != "seconds":
            err(f"{path}/timestamps: attributes interval = 1 and unit = 'seconds' are required")
        if ts.shape[0] > 1 and np.any(np.diff(ts[()]) < 0):
            err(f"{path}/timestamps: must not decrease")
    elif "starting_time" in g:
        st = g["starting_time"]
        if "rate" not in st.attrs or text(st.attrs.get("unit")) != "seconds":
            err(f"{path}/starting_time: attributes rate and unit = 'seconds' are required")
    else:
        err(f"{path}: timestamps or starting_time is required")
    return errors


def units_check(u):
    """The Units table beyond what hdmf checks: columns present with one entry per row, the ragged index consistent."""
    errors = []
    err = errors.append
    if "id" not in u:
        return ["/units/id: required"]
    rows = u["id"].shape[0]
    for col in (text(c) for c in u.attrs.get("colnames", [])):
        if col not in u:
            err(f"/units: column {col} named in colnames is missing")
            continue
        index = u.get(col + "_index")
        n = index.shape[0] if index is not None else u[col].shape[0]
        if n != rows:
            err(f"/units/{col}{'_index' if index is not None else ''}: {n} entries for {rows} rows")
        if index is not None:
            end = index[()]
            if end.size and (np.any(np.diff(end.astype(np.int64)) < 0) or int(end[-1]) != u[col].shape[0]):
                err(f"/units/{col}_index: must be non-decreasing and end at len({col}) = {u[col].shape[0]}")
            target = index.attrs.get("target")
            if not isinstance(target, h5py.Reference) or u.file[target].name != u[col].name:
                err(f"/units/{col}_index: the attribute target must reference /units/{col}")
    if "spike_times" in u and u["spike_times"].dtype != np.float64:
        err(f"/units/spike_times: must be float64, is {u['spike_times'].dtype}")
    return errors


def compare(nwb, h5):
    """Differences between the spikes and state of run.nwb and run.h5; (errors, spikes compared, state values compared)."""
    precise = text(h5.attrs.get("engine")) == "precise"

    def seconds(ms):
        ms = np.asarray(ms, dtype=np.float64)
        return ms / 1000.0 if precise else np.array([float(repr(float(x)) + "e-3") for x in ms])

    spike_errors, spikes = compare_spikes(nwb, h5, seconds)
    state_errors, samples = compare_state(nwb, h5, seconds)
    return spike_errors + state_errors, spikes, samples


def compare_spikes(nwb, h5, seconds):
    pops = list(h5["spikes"])
    if not pops:
        return [], 0
    if "units" not in nwb:
        return ["run.nwb has no /units, run.h5 has spikes"], 0
    errors = []
    err = errors.append
    u = nwb["units"]
    population = np.array([text(p) for p in u["population"][()]])
    neuron, instance = u["neuron_id"][()], u["instance"][()]
    end = u["spike_times_index"][()].astype(np.int64)
    start = np.concatenate([[0], end[:-1]])
    times = u["spike_times"][()]
    if set(population) != set(pops):
        err(f"populations differ: run.nwb {sorted(set(population))}, run.h5 {sorted(pops)}")
    spikes = 0
    for pop in pops:
        g = h5["spikes"][pop]
        t, ids, inst = g["times_ms"][()], g["neuron_ids"][()], g["instance"][()]
        spikes += t.size
        rows = np.flatnonzero(population == pop)
        if rows.size != g.attrs["size"] * h5.attrs["batch"]:
            err(f"{pop}: {rows.size} units, run.h5 has {g.attrs['size']} neurons x batch {h5.attrs['batch']}")
            continue
        counts_h5 = {}
        for i, n in zip(inst.tolist(), ids.tolist()):
            counts_h5[(i, n)] = counts_h5.get((i, n), 0) + 1
        counts_nwb = {(int(instance[r]), int(neuron[r])): int(end[r] - start[r]) for r in rows}
        bad = [k for k in set(counts_h5) | set(counts_nwb) if counts_h5.get(k, 0) != counts_nwb.get(k, 0)]
        if bad:
            err(f"{pop}: spike counts per (instance, neuron) differ, e.g. {[(k, counts_h5.get(k, 0), counts_nwb.get(k, 0)) for k in sorted(bad)[:3]]}")
            continue
        order = np.lexsort((np.arange(t.size), ids, inst))       # by instance, then neuron, keeping time order
        expected = seconds(t[order])
        got = np.concatenate([times[start[r]:end[r]] for r in rows])
        if not np.array_equal(got, expected):
            k = int(np.flatnonzero(got != expected)[0])
            err(f"{pop}: spike {k} (by instance, neuron, time) is at {got[k]!r} s in run.nwb, {t[order][k]!r} ms in run.h5")
    return errors, spikes


def compare_state(nwb, h5, seconds):
    errors = []
    err = errors.append
    first = int(h5.attrs["first_instance"])
    samples = 0
    for grp, g in h5["state"].items():
        for var in (k for k in g if k not in ("times_ms", "neuron_ids")):
            values = g[var][()]
            for b in range(values.shape[0]):
                name = f"{grp}_{var}_instance{first + b}"
                if name not in nwb["acquisition"]:
                    err(f"/acquisition/{name}: missing (run.h5 /state/{grp}/{var})")
                    continue
                ts = nwb["acquisition"][name]
                data = ts["data"][()]
                n = data.shape[0]
                samples += data.size
                if not np.array_equal(data, values[b, :n]) or not np.all(np.isnan(values[b, n:])):
                    err(f"/acquisition/{name}/data differs from run.h5 /state/{grp}/{var}[{b}]")
                if not np.array_equal(ts["timestamps"][()], seconds(g["times_ms"][:n])):
                    err(f"/acquisition/{name}/timestamps differ from run.h5 /state/{grp}/times_ms (as seconds)")
    return errors, samples


def validate(path, h5_path=None, quiet=False):
    """All errors of a file; prints what was checked unless quiet."""
    say = (lambda *a: None) if quiet else print
    errors, count, version = hdmf_check(path)
    say(f"hdmf {hdmf.__version__}: {count} objects validated against hdmf-common {version}: {len(errors)} errors")
    with h5py.File(path, "r") as f:
        core = core_check(f)
        say(f"NWB core 2.7.0 requirements (h5py; no NWB schema here): {len(core)} errors")
        errors += core
        if h5_path is not None:
            with h5py.File(h5_path, "r") as h5:
                diffs, spikes, samples = compare(f, h5)
                say(f"run.h5 agreement: {spikes} spikes, {samples} state values compared: {len(diffs)} differences")
                errors += diffs
    return errors


def break_copy(path, workdir, name, mutate):
    copy = os.path.join(workdir, name + ".nwb")
    shutil.copy(path, copy)
    with h5py.File(copy, "r+") as f:
        mutate(f)
    return copy


def retype_index(f):
    old = f["units/spike_times_index"]
    values, attrs = old[()].astype(np.float64), dict(old.attrs)
    del f["units/spike_times_index"]
    new = f["units"].create_dataset("spike_times_index", data=values)
    for k, v in attrs.items():
        new.attrs[k] = v


def move_one_spike(f):
    ds = f["units/spike_times"]
    k = ds.shape[0] // 2
    ds[k] = np.nextafter(ds[k], np.inf)


# (what is broken, what the file must hold for it, how)
MUTATIONS = [
    ("no session_start_time", None, lambda f: f.__delitem__("session_start_time")),
    ("no description on spike_times", "units", lambda f: f["units/spike_times"].attrs.__delitem__("description")),
    ("float spike_times_index", "units", retype_index),
    ("no units id", "units", lambda f: f["units"].__delitem__("id")),
    ("no unit on a TimeSeries", "a TimeSeries", lambda f: next(iter(f["acquisition"].values()))["data"].attrs.__delitem__("unit")),
    ("no object_id on the device", None, lambda f: f["general/devices/sim"].attrs.__delitem__("object_id")),
    ("one spike one ulp later", "spikes and --h5", move_one_spike),
]


def self_test(path, h5_path):
    """Each broken copy must be rejected; returns the number that were not."""
    with h5py.File(path, "r") as f:
        holds = {None: True, "units": "units" in f, "a TimeSeries": len(f["acquisition"]) > 0,
                 "spikes and --h5": h5_path is not None and "units" in f and f["units/spike_times"].shape[0] > 0}
    missed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for name, needs, mutate in MUTATIONS:
            if not holds[needs]:
                print(f"self-test: skipped '{name}' (needs {needs})")
                continue
            errors = validate(break_copy(path, workdir, name.replace(" ", "_"), mutate), h5_path, quiet=True)
            if errors:
                print(f"self-test: rejected '{name}': {errors[0]}")
            else:
                print(f"self-test: NOT rejected '{name}'")
                missed += 1
    return missed


def main(argv):
    args = argv[1:]
    h5_path, test = None, False
    if "--self-test" in args:
        args.remove("--self-test")
        test = True
    if "--h5" in args:
        i = args.index("--h5")
        if i + 1 >= len(args):
            print("validate_nwb.py: --h5 needs a file", file=sys.stderr)
            return 2
        h5_path = args.pop(i + 1)
        args.pop(i)
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    for p in [args[0]] + ([h5_path] if h5_path else []):
        if not os.path.isfile(p):
            print(f"validate_nwb.py: '{p}' does not exist", file=sys.stderr)
            return 2
    errors = validate(args[0], h5_path)
    for e in errors:
        print(f"error: {e}")
    if errors:
        print(f"INVALID: {len(errors)} errors")
        return 1
    print("valid" + (" and equal to run.h5" if h5_path else ""))
    if test and self_test(args[0], h5_path) > 0:
        print("self-test FAILED: a broken file was accepted")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
