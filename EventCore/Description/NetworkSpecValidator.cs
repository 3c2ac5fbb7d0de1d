using System.Text.RegularExpressions;

namespace Sim.EventCore.Description;

/// <summary>
/// Checks a <see cref="NetworkSpec"/> and reports every problem with its field path (e.g.
/// <c>populations[0].params.tau_mem_ms</c>) and, when the spec came from a file, the file, line and column.
/// </summary>
public static partial class NetworkSpecValidator
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_\\-]*$")]
    private static partial Regex NamePattern();

    /// <summary>
    /// Where <paramref name="field"/> was written: the field itself or its nearest recorded parent; the file alone (line 0)
    /// when the file does not mention it (a missing section); null for a spec built in code.
    /// </summary>
    public static SourceLocation? Locate(NetworkSpec spec, string field)
    {
        SourceLocation? loc = null;
        for (string f = field; loc is null && f.Length > 0; f = Parent(f))
            spec.Locations.TryGetValue(f, out loc);
        return loc ?? (spec.SourceFile is { } file ? new SourceLocation(file, 0, 0) : null);
    }

    /// <summary>The largest rate of one Poisson source (Hz): beyond it a run drowns in input events (found by fuzzing: 1e308 Hz never finished a tick).</summary>
    public const double MaxPoissonRateHz = 1e6;

    /// <summary>Every problem of the spec (empty when valid).</summary>
    public static IReadOnlyList<SpecError> Validate(NetworkSpec spec)
    {
        var errors = new List<SpecError>();
        void Err(string field, string message) => errors.Add(new SpecError(field, message, Locate(spec, field)));

        var run = spec.Run;
        double dt = run.DtMs;
        if (!double.IsFinite(dt) || dt <= 0) Err("run.dt_ms", $"must be a finite time step > 0 ms, got {Value.Fmt(dt)}");
        if (!double.IsFinite(run.DurationMs) || run.DurationMs < 0) Err("run.duration_ms", $"must be finite and ≥ 0, got {Value.Fmt(run.DurationMs)}");
        else if (double.IsFinite(dt) && dt > 0 && run.DurationMs / dt > 1e12) Err("run.duration_ms", "more than 10^12 ticks");
        if (run.Batch < 1) Err("run.batch", $"must be ≥ 1, got {run.Batch}");
        if (run.InstanceOffset < 0) Err("run.instance_offset", "must be ≥ 0");
        if (run.Threads < 0) Err("run.threads", "must be ≥ 0 (0 = one per core)");
        if (run.MaxRateHz is { } mr && (!double.IsFinite(mr) || mr <= 0)) Err("run.max_rate_hz", "must be finite and > 0");
        if (!double.IsFinite(run.GuardWindowMs) || run.GuardWindowMs <= 0) Err("run.guard_window_ms", "must be finite and > 0");
        bool dtOk = double.IsFinite(dt) && dt > 0;

        var names = new Dictionary<string, string>();
        var popByName = new Dictionary<string, PopulationSpec>();
        var sizeByName = new Dictionary<string, int>();
        void CheckName(string field, string name)
        {
            if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name)) Err(field, $"'{name}' is not a valid name (letters, digits, '_', '-'; not starting with a digit)");
            else if (names.TryGetValue(name, out var other)) Err(field, $"name '{name}' is already used by {other}");
            else names[name] = field;
        }

        if (spec.Populations.Count == 0) Err("populations", "a network needs at least one population");
        long totalNeurons = 0;
        for (int i = 0; i < spec.Populations.Count; i++)
        {
            var p = spec.Populations[i];
            string f = $"populations[{i}]";
            CheckName(f + ".name", p.Name);
            if (p.Size < 1) Err(f + ".size", $"must be ≥ 1, got {p.Size}");
            totalNeurons += Math.Max(0, p.Size);
            popByName.TryAdd(p.Name, p);
            sizeByName.TryAdd(p.Name, p.Size);
            if (p.Parameters is null) { Err(f + ".model", "missing model parameters"); continue; }
            foreach (var field in Naming.Fields(p.Parameters.GetType()))
            {
                object? raw = field.Property.GetValue(p.Parameters);
                string pf = $"{f}.params.{field.Key}";
                if (raw is Value v)
                {
                    if (v.Check(field.Positive, field.NonNegative) is { } msg) Err(pf, msg);
                    if (v is Value.ArrayValue av && av.Values.Length != p.Size) Err(pf, $"has {av.Values.Length} values for {p.Size} neurons");
                }
            }
            foreach (var (key, message) in p.Parameters.Model.Validate(p.Parameters)) Err($"{f}.params.{key}", message);
            if (p.Noise is { } n && (!double.IsFinite(n.DeltaV) || n.DeltaV <= 0))
                Err(f + ".escape_noise.delta_v", $"must be finite and > 0, got {Value.Fmt(n.DeltaV)}");
            if (p.Noise is not null && p.Parameters is { Model.EmitsSpikes: false })
                Err(f + ".escape_noise", $"model {p.Parameters.Model.Name} emits no spikes (its output is graded); escape noise does not apply to it");
            else if (p.Noise is not null && !p.Parameters.Model.SupportsEscapeNoise)
                Err(f + ".escape_noise", $"model {p.Parameters.Model.Name} takes no escape noise: its threshold is the greedy resolution of its fast coupling (docs/models/{p.Parameters.Model.Name}.md)");
        }
        if (totalNeurons > int.MaxValue / 2) Err("populations", $"{totalNeurons} neurons: more than the {int.MaxValue / 2} a network may hold");

        for (int i = 0; i < spec.Inputs.Count; i++)
        {
            var inp = spec.Inputs[i];
            string f = $"inputs[{i}]";
            CheckName(f + ".name", inp.Name);
            if (inp.Size < 1) Err(f + ".size", $"must be ≥ 1, got {inp.Size}");
            sizeByName.TryAdd(inp.Name, inp.Size);
            switch (inp)
            {
                case PoissonInput pi:
                    if (pi.RateHz.Check(nonNegative: true) is { } m) Err(f + ".rate_hz", m);
                    else if (pi.RateHz.Max > MaxPoissonRateHz)
                        Err(f + ".rate_hz", $"{Value.Fmt(pi.RateHz.Max)} Hz per source is more than the {Value.Fmt(MaxPoissonRateHz)} Hz a Poisson source may have (one spike per microsecond); use more sources");
                    if (pi.RateHz is Value.ArrayValue av && av.Values.Length != pi.Size) Err(f + ".rate_hz", $"has {av.Values.Length} values for {pi.Size} sources");
                    if (!double.IsFinite(pi.StartMs) || pi.StartMs < 0) Err(f + ".start_ms", "must be finite and ≥ 0");
                    if (pi.StopMs is { } stop && (!double.IsFinite(stop) || stop < pi.StartMs)) Err(f + ".stop_ms", "must be finite and ≥ start_ms");
                    break;
                case SpikeTimesInput st:
                    if (st.TimesMs.Length != st.Indices.Length) Err(f + ".times_ms", $"{st.TimesMs.Length} times but {st.Indices.Length} indices");
                    for (int k = 0; k < st.TimesMs.Length; k++)
                        if (!double.IsFinite(st.TimesMs[k]) || st.TimesMs[k] < 0) { Err(f + ".times_ms", $"time {k} must be finite and ≥ 0, got {Value.Fmt(st.TimesMs[k])}"); break; }
                    for (int k = 0; k < st.Indices.Length; k++)
                        if ((uint)st.Indices[k] >= (uint)st.Size) { Err(f + ".indices", $"index {st.Indices[k]} (entry {k}) is out of range [0, {st.Size})"); break; }
                    break;
                case ClockInput ci:
                    if (!double.IsFinite(ci.SpanMs) || ci.SpanMs <= 0) Err(f + ".span_ms", "must be finite and > 0");
                    else if (dtOk && Math.Round(ci.SpanMs / dt) < 1) Err(f + ".span_ms", $"is below one tick ({Value.Fmt(dt)} ms)");
                    if (ci.PeriodMs is { } per && (!double.IsFinite(per) || per < ci.Channels * ci.SpanMs - 1e-9 * per))
                        Err(f + ".period_ms", "must be finite and ≥ channels × span_ms");
                    break;
            }
        }

        for (int i = 0; i < spec.Projections.Count; i++)
        {
            var pr = spec.Projections[i];
            string f = $"projections[{i}]";
            bool srcOk = sizeByName.TryGetValue(pr.Source, out int nPre);
            if (!srcOk) Err(f + ".source", $"'{pr.Source}' is neither a population nor an input");
            bool tgtOk = popByName.TryGetValue(pr.Target, out var tgt);
            if (!tgtOk) Err(f + ".target", sizeByName.ContainsKey(pr.Target) ? $"'{pr.Target}' is an input; a projection must target a population" : $"'{pr.Target}' is not a population");
            int nPost = tgt?.Size ?? 0;
            long nSyn = -1;
            switch (pr.Connectivity)
            {
                case Connectivity.AllToAll a:
                    if (srcOk && tgtOk) nSyn = (long)nPre * nPost - (!a.Autapses && pr.Source == pr.Target ? nPre : 0);
                    break;
                case Connectivity.FixedProbability fp:
                    if (!double.IsFinite(fp.P) || fp.P < 0 || fp.P > 1) Err(f + ".connectivity.p", $"must be a probability in [0, 1], got {Value.Fmt(fp.P)}");
                    break;
                case Connectivity.FixedInDegree fi:
                    if (fi.K < 0) Err(f + ".connectivity.k", $"must be ≥ 0, got {fi.K}");
                    else if (srcOk && !fi.Multapses)
                    {
                        int avail = nPre - (!fi.Autapses && pr.Source == pr.Target ? 1 : 0);
                        if (fi.K > avail) Err(f + ".connectivity.k", $"{fi.K} distinct inputs requested but only {avail} sources are available");
                    }
                    if (tgtOk) nSyn = (long)fi.K * nPost;
                    break;
                case Connectivity.OneToOne:
                    if (srcOk && tgtOk && nPre != nPost) Err(f + ".connectivity", $"one_to_one needs equal sizes, got {nPre} → {nPost}");
                    nSyn = nPost;
                    break;
                case Connectivity.PairList pl:
                    if (pl.Pre.Length != pl.Post.Length) Err(f + ".connectivity", $"{pl.Pre.Length} pre indices but {pl.Post.Length} post indices");
                    for (int k = 0; k < pl.Pre.Length && srcOk; k++)
                        if ((uint)pl.Pre[k] >= (uint)nPre) { Err(f + ".connectivity.pre", $"index {pl.Pre[k]} (pair {k}) is out of range [0, {nPre}) of '{pr.Source}'"); break; }
                    for (int k = 0; k < pl.Post.Length && tgtOk; k++)
                        if ((uint)pl.Post[k] >= (uint)nPost) { Err(f + ".connectivity.post", $"index {pl.Post[k]} (pair {k}) is out of range [0, {nPost}) of '{pr.Target}'"); break; }
                    nSyn = pl.Pre.Length;
                    break;
            }
            if (pr.Weight.Check() is { } wm) Err(f + ".weight", wm);
            if (pr.Weight is Value.ArrayValue wa && wa.Values.Length != nSyn)
                Err(f + ".weight", nSyn < 0 ? "per-synapse weights need pairs, one_to_one or all_to_all connectivity" : $"has {wa.Values.Length} values for {nSyn} synapses");
            // A delay left at its default (one tick) inherits a bad dt: reported once, at run.dt_ms, not again here.
            bool defaultDelayOfBadDt = !dtOk && pr.DelayMs is Value.Constant c && c.V.Equals(dt) && !spec.Locations.ContainsKey(f + ".delay_ms");
            if (!defaultDelayOfBadDt && pr.DelayMs.Check(positive: true) is { } dm) Err(f + ".delay_ms", dm);
            else if (dtOk && pr.DelayMs.Min < dt * (1 - 1e-9))
                Err(f + ".delay_ms", $"delay {Value.Fmt(pr.DelayMs.Min)} ms is below one tick (dt = {Value.Fmt(dt)} ms); the smallest delay is one tick");
            if (pr.DelayMs is Value.ArrayValue da && da.Values.Length != nSyn)
                Err(f + ".delay_ms", nSyn < 0 ? "per-synapse delays need pairs, one_to_one or all_to_all connectivity" : $"has {da.Values.Length} values for {nSyn} synapses");
            if (pr.WeightFractionBits is { } wb && (wb < -30 || wb > 52)) Err(f + ".weight_fraction_bits", $"must be in [-30, 52], got {wb}");
            if (tgt is not null && popByName.TryGetValue(pr.Source, out var src) && IsTraceCoupled(src, tgt)
                && dtOk && !(pr.DelayMs.IsConstant && Math.Abs(pr.DelayMs.Min - dt) <= 1e-9 * dt))
                Err(f + ".delay_ms", $"a projection from {src.Parameters.Model.Name} to {tgt.Parameters.Model.Name} acts through the exported trace " +
                    $"'{src.Parameters.Model.StateVariables[src.Parameters.Model.CouplingTraceVariable].Name}' without delay; its delay must be one tick (dt)");
            if (tgt is not null && popByName.TryGetValue(pr.Source, out var srcPop) && srcPop.Parameters is { Model.EmitsSpikes: false } sp0
                && !IsTraceCoupled(srcPop, tgt))
                Err(f + ".target", $"'{pr.Source}' ({sp0.Model.Name}) emits no spikes: it reaches other populations only through its output " +
                    $"'{sp0.Model.StateVariables[sp0.Model.CouplingTraceVariable].Name}', so its targets must take trace input " +
                    $"({string.Join(", ", Models.ModelRegistry.All.Where(m => m.TakesTraceInput).Select(m => m.Name))}), not {tgt.Parameters?.Model.Name}");
            if (pr.WeightFractionBits is { } wb2 && pr.Weight.MaxAbs * Math.ScaleB(1.0, wb2) > Numerics.FixedPoint.MaxAbsQ)
                Err(f + ".weight_fraction_bits", $"weights up to {Value.Fmt(pr.Weight.MaxAbs)} do not fit the grid 2^-{wb2} with |q| ≤ 2^30");
        }

        for (int i = 0; i < spec.Currents.Count; i++)
        {
            var c = spec.Currents[i];
            string f = $"currents[{i}]";
            if (!popByName.TryGetValue(c.Target, out var tp)) Err(f + ".target", $"'{c.Target}' is not a population");
            if (c.Amplitude.Check() is { } am) Err(f + ".amplitude", am);
            if (tp is not null && c.Amplitude is Value.ArrayValue aa && aa.Values.Length != tp.Size) Err(f + ".amplitude", $"has {aa.Values.Length} values for {tp.Size} neurons");
            if ((c.TimesMs is null) != (c.Scales is null)) Err(f + ".times_ms", "times_ms and scales go together");
            else if (c.TimesMs is not null && c.Scales is not null)
            {
                if (c.TimesMs.Length != c.Scales.Length) Err(f + ".scales", $"{c.Scales.Length} scales for {c.TimesMs.Length} times");
                for (int k = 0; k < c.TimesMs.Length; k++)
                {
                    if (!double.IsFinite(c.TimesMs[k]) || c.TimesMs[k] < 0 || (k > 0 && c.TimesMs[k] < c.TimesMs[k - 1])) { Err(f + ".times_ms", $"times must be finite, ≥ 0 and ascending (entry {k})"); break; }
                }
                foreach (double s in c.Scales) if (!double.IsFinite(s)) { Err(f + ".scales", "scales must be finite"); break; }
            }
        }

        for (int i = 0; i < spec.Monitors.Count; i++)
        {
            string f = $"monitors[{i}]";
            switch (spec.Monitors[i])
            {
                case SpikeMonitorSpec sm:
                    foreach (var name in sm.Populations) if (!popByName.ContainsKey(name)) Err(f + ".populations", $"'{name}' is not a population");
                    break;
                case StateMonitorSpec st:
                    if (!popByName.TryGetValue(st.Population, out var sp)) { Err(f + ".population", $"'{st.Population}' is not a population"); break; }
                    if (sp.Parameters is null) break;
                    var vars = sp.Parameters.Model.ReportedVariableNames;
                    foreach (var v in st.Variables) if (!vars.Contains(v)) Err(f + ".variables", $"'{v}' is not a state variable of {sp.Parameters.Model.Name} (one of {string.Join(", ", vars)})");
                    foreach (int idx in st.Indices) if ((uint)idx >= (uint)sp.Size) { Err(f + ".indices", $"index {idx} is out of range [0, {sp.Size}) of '{st.Population}'"); break; }
                    if (!double.IsFinite(st.IntervalMs) || (dtOk && st.IntervalMs < dt * (1 - 1e-9))) Err(f + ".interval_ms", "must be finite and at least one tick");
                    break;
                case RateMonitorSpec rm:
                    if (!popByName.TryGetValue(rm.Population, out var rp)) Err(f + ".population", $"'{rm.Population}' is not a population");
                    else if (rp.Parameters is { Model.EmitsSpikes: false })
                        Err(f + ".population", $"'{rm.Population}' ({rp.Parameters.Model.Name}) emits no spikes, so it has no firing rate; record its state with a state monitor");
                    if (!double.IsFinite(rm.BinMs) || (dtOk && rm.BinMs < dt * (1 - 1e-9))) Err(f + ".bin_ms", "must be finite and at least one tick");
                    break;
            }
        }
        return errors;
    }

    /// <summary>
    /// True when a projection from <paramref name="source"/> to <paramref name="target"/> is trace-coupled: the source's
    /// model exports a coupling trace and the target's model takes trace input (the compiler's rule too).
    /// </summary>
    public static bool IsTraceCoupled(PopulationSpec source, PopulationSpec target)
        => source.Parameters is { } s && target.Parameters is { } t && s.Model.CouplingTraceVariable >= 0 && t.Model.TakesTraceInput;

    private static string Parent(string field)
    {
        int dot = field.LastIndexOf('.');
        int br = field.LastIndexOf('[');
        int cut = Math.Max(dot, br);
        return cut <= 0 ? "" : field[..cut];
    }
}
