using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>
/// The pairing protocols of spike-timing-dependent plasticity (docs/tasks/stdp.md): independent pre/post pairs, one per
/// synapse, each pre spike a source of a spike generator, each post spike forced by a strong drive into a lif_delta
/// neuron, repeated at a fixed frequency; the weight change is read from the rule's float64 weights after the run.
/// The STDP window (Bi &amp; Poo 1998: 60 pairings at 1 Hz) is compared with the closed form of the pair rule; the
/// frequency dependence of triplet STDP (Sjöström, Turrigiano &amp; Nelson 2001; Pfister &amp; Gerstner 2006, Fig. 6:
/// 60 pairings at 0.1–50 Hz with Δt = ±10 ms) with a direct evaluation of the triplet equations over the spike lists.
/// Δt = t_post − t_pre at the somata; the synapse sees the post spike d later (the delay is dendritic), so a pairing
/// acts at Δt + d.
/// </summary>
public static class StdpProtocols
{
    /// <summary>The pairs of a protocol: per pair k its pre and post spike ticks.</summary>
    private static NetworkSpec PairNetwork(string name, double dtMs, double delayMs, double w0, int bits, IReadOnlyList<(long[] Pre, long[] Post)> pairs, long ticks)
    {
        var preIdx = new List<int>(); var preT = new List<double>();
        var driveIdx = new List<int>(); var driveT = new List<double>();
        for (int k = 0; k < pairs.Count; k++)
        {
            foreach (long t in pairs[k].Pre) { preIdx.Add(k); preT.Add(t * dtMs); }
            foreach (long t in pairs[k].Post) { driveIdx.Add(k); driveT.Add((t - 1) * dtMs); }   // the drive arrives one tick later
        }
        int n = pairs.Count;
        var b = new NetworkBuilder(name) { Run = new RunOptions { DtMs = dtMs, DurationMs = ticks * dtMs } };
        b.SpikeGeneratorGroup("pre", n, [.. preIdx], [.. preT]);
        b.SpikeGeneratorGroup("drive", n, [.. driveIdx], [.. driveT]);
        b.NeuronGroup("post", n, new LifDeltaParameters { ELeakMv = -70, VResetMv = -70, VThresholdMv = -50, RefractoryMs = dtMs, TauMemMs = 20, VInitMv = -70 });
        b.Synapses("drive", "post", new Connectivity.OneToOne(), 60.0, dtMs, weightFractionBits: bits);
        b.Synapses("pre", "post", new Connectivity.OneToOne(), w0, delayMs, projectionName: "pre_post", weightFractionBits: bits);
        return b.Build();
    }

    private static double[] LearnedWeights(string engineName, NetworkSpec spec, Sim.EventCore.Plasticity.IPlasticityRule rule, string state, long ticks)
    {
        var net = NetworkCompiler.Compile(spec);
        using var engine = EngineFactory.CreateGrid(engineName, net);
        engine.AddPlasticityRule(rule);
        engine.ResetState();
        engine.Run(ticks);
        return engine.SaveCheckpoint().Instances[0].Plastic!.Doubles[$"synapse/pre_post/{state}"];
    }

    /// <summary>Runs the window protocol.</summary>
    public static StdpWindowResult Window(StdpWindowOptions o)
    {
        o.Validate();
        var watch = Stopwatch.StartNew();
        long period = Ticks(1000.0 / o.FrequencyHz, o.DtMs), start = Ticks(200, o.DtMs);
        var pairs = new List<(long[], long[])>();
        foreach (double dtPair in o.DeltaTsMs)
        {
            long lag = Ticks(dtPair, o.DtMs), offset = Math.Max(0, -lag);
            var pre = Enumerable.Range(0, o.Pairings).Select(n => start + n * period + offset).ToArray();
            pairs.Add((pre, [.. pre.Select(t => t + lag)]));
        }
        long ticks = start + o.Pairings * period + Ticks(200, o.DtMs);
        var spec = PairNetwork("stdp-window", o.DtMs, o.DelayMs, o.InitialWeight, o.WeightFractionBits, pairs, ticks);
        var w = LearnedWeights(o.Engine, spec, new StdpRule("pre_post", o.Rule), StdpRule.WeightState, ticks);
        var points = new List<StdpWindowPoint>();
        var p = o.Rule;
        for (int k = 0; k < o.DeltaTsMs.Count; k++)
        {
            // Closed form for isolated pairs: each pairing is one update at the synapse's lag s = Δt + d, facilitation
            // with K₊ = e^{−s/τ₊} (s > 0) or depression with K₋ = e^{s/τ₋} (s < 0); none at s = 0. Pairings 1/f apart
            // interact through e^{−(1/f − |s|)/τ}, below 1e-20 at 1 Hz; the map is applied once per pairing.
            double s = Ticks(o.DeltaTsMs[k], o.DtMs) * o.DtMs + Ticks(o.DelayMs, o.DtMs) * o.DtMs;
            double wc = o.InitialWeight;
            for (int n = 0; n < o.Pairings; n++)
            {
                if (s > 0) wc = Math.Min(wc / p.WMax + p.Lambda * Math.Pow(1 - wc / p.WMax, p.MuPlus) * Math.Exp(-s / p.TauPlusMs), 1) * p.WMax;
                else if (s < 0) wc = Math.Max(wc / p.WMax - p.Alpha * p.Lambda * Math.Pow(wc / p.WMax, p.MuMinus) * Math.Exp(s / p.TauMinusMs), 0) * p.WMax;
            }
            points.Add(new StdpWindowPoint(o.DeltaTsMs[k], w[k] - o.InitialWeight, wc - o.InitialWeight));
        }
        return new StdpWindowResult(o, points, watch.Elapsed.TotalSeconds);
    }

    /// <summary>Runs the frequency protocol of triplet STDP.</summary>
    public static TripletFrequencyResult Frequency(TripletFrequencyOptions o)
    {
        o.Validate();
        var watch = Stopwatch.StartNew();
        long start = Ticks(100, o.DtMs);
        var pairs = new List<(long[], long[])>();
        var cells = new List<(double F, double Dt)>();
        long ticks = 0;
        foreach (double f in o.FrequenciesHz)
            foreach (double dtPair in o.DeltaTsMs)
            {
                long period = Ticks(1000.0 / f, o.DtMs), lag = Ticks(dtPair, o.DtMs), offset = Math.Max(0, -lag);
                var pre = Enumerable.Range(0, o.Pairings).Select(n => start + n * period + offset).ToArray();
                pairs.Add((pre, [.. pre.Select(t => t + lag)]));
                cells.Add((f, dtPair));
                ticks = Math.Max(ticks, start + o.Pairings * period + Ticks(300, o.DtMs));
            }
        var spec = PairNetwork("triplet-frequency", o.DtMs, o.DelayMs, o.InitialWeight, o.WeightFractionBits, pairs, ticks);
        var w = LearnedWeights(o.Engine, spec, new TripletStdpRule("pre_post", o.Rule), TripletStdpRule.WeightState, ticks);
        long d = Ticks(o.DelayMs, o.DtMs);
        var points = new List<TripletFrequencyPoint>();
        for (int k = 0; k < cells.Count; k++)
        {
            double expected = DirectTriplet(o.InitialWeight, pairs[k].Item1, [.. pairs[k].Item2.Select(t => t + d)], o.DtMs, o.Rule) - o.InitialWeight;
            points.Add(new TripletFrequencyPoint(cells[k].F, cells[k].Dt, w[k] - o.InitialWeight, expected, o.InitialWeight));
        }
        return new TripletFrequencyResult(o, points, watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The triplet rule evaluated directly over the spike lists (pre at their ticks, post at their arrivals), each trace
    /// as a sum of exponentials over the earlier spikes (Pfister &amp; Gerstner 2006, Eqs. 1–4), events in time order,
    /// arrivals before pre spikes of the same tick; independent of the rule's code.
    /// </summary>
    internal static double DirectTriplet(double w, long[] pre, long[] arrivals, double dtMs, TripletStdpParameters p)
    {
        double Sum(IEnumerable<long> spikes, long t, double tau) => spikes.Where(s => s < t).Sum(s => Math.Exp(-(t - s) * dtMs / tau));
        var events = arrivals.Select(t => (T: t, Post: true)).Concat(pre.Select(t => (T: t, Post: false))).OrderBy(e => e.T).ThenBy(e => e.Post ? 0 : 1);
        foreach (var (t, post) in events)
        {
            if (post) w = Math.Min(w + Sum(pre, t, p.TauPlusMs) * (p.A2Plus + p.A3Plus * Sum(arrivals, t, p.TauYMs)), p.WMax);
            else w = Math.Max(w - Sum(arrivals, t, p.TauMinusMs) * (p.A2Minus + p.A3Minus * Sum(pre, t, p.TauXMs)), 0);
        }
        return w;
    }

    /// <summary>
    /// The STDP of the cost benchmark (<c>sim bench</c> cuba-stdp, Bench <c>CubaPlasticity</c>): multiplicative all-to-all
    /// pair STDP on CUBA's exc→exc synapses (λ = 0.01, α = 1.05, τ± = 20 ms, W_max = 2·1.62 mV: w starts at W_max/2).
    /// </summary>
    public static StdpRule CubaStdp() => new("exc->exc", new StdpParameters { Lambda = 0.01, Alpha = 1.05, WMax = 3.24 });

    private static long Ticks(double ms, double dtMs) => (long)Math.Round(ms / dtMs, MidpointRounding.AwayFromZero);
}

/// <summary>Options of the STDP window protocol.</summary>
public sealed record StdpWindowOptions
{
    /// <summary>The rule (default: additive, λ = 0.005, W_max = 1, τ± = 20 ms, α = 1).</summary>
    public StdpParameters Rule { get; init; } = StdpParameters.Additive with { Lambda = 0.005, WMax = 1.0 };
    /// <summary>Initial weight of every synapse.</summary>
    public double InitialWeight { get; init; } = 0.5;
    /// <summary>Pairings per Δt (Bi &amp; Poo 1998: 60).</summary>
    public int Pairings { get; init; } = 60;
    /// <summary>Pairing frequency (Hz).</summary>
    public double FrequencyHz { get; init; } = 1.0;
    /// <summary>The Δt = t_post − t_pre (ms) measured, one synapse each.</summary>
    public IReadOnlyList<double> DeltaTsMs { get; init; } = [.. Enumerable.Range(-40, 81).Select(k => k * 2.0)];
    /// <summary>dt (ms).</summary>
    public double DtMs { get; init; } = 0.1;
    /// <summary>The synapses' (dendritic) delay (ms).</summary>
    public double DelayMs { get; init; } = 0.1;
    /// <summary>F of the weight grid.</summary>
    public int WeightFractionBits { get; init; } = 20;
    /// <summary>Grid engine name.</summary>
    public string Engine { get; init; } = "event";

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public void Validate()
    {
        Rule.Validate();
        if (Pairings < 1) throw new ArgumentException($"pairings: must be ≥ 1, got {Pairings}");
        if (!(FrequencyHz > 0) || !double.IsFinite(FrequencyHz)) throw new ArgumentException($"frequency: must be > 0 Hz, got {FrequencyHz}");
        if (DeltaTsMs.Count == 0 || DeltaTsMs.Any(t => !(Math.Abs(t) < 500 / FrequencyHz))) throw new ArgumentException("delta-t: every |Δt| must be below half the pairing period");
        if (!(InitialWeight / Rule.WMax >= 0 && InitialWeight / Rule.WMax <= 1)) throw new ArgumentException($"initial weight {InitialWeight} is outside [0, w_max]");
    }
}

/// <summary>One Δt of the window: the measured change after all pairings and the closed form.</summary>
public sealed record StdpWindowPoint(double DeltaTMs, double MeasuredDw, double ClosedFormDw);

/// <summary>The window protocol's result.</summary>
public sealed record StdpWindowResult(StdpWindowOptions Options, IReadOnlyList<StdpWindowPoint> Points, double Seconds)
{
    /// <summary>max |measured − closed form| over Δt.</summary>
    public double MaxDeviation => Points.Max(p => Math.Abs(p.MeasuredDw - p.ClosedFormDw));

    /// <summary>CSV: delta_t_ms, dw, dw_closed_form.</summary>
    public string Csv()
    {
        var sb = new StringBuilder("delta_t_ms,dw,dw_closed_form\n");
        foreach (var p in Points) sb.Append(CultureInfo.InvariantCulture, $"{p.DeltaTMs:R},{p.MeasuredDw:R},{p.ClosedFormDw:R}\n");
        return sb.ToString();
    }

    /// <summary>A summary.</summary>
    public string Summary()
    {
        var r = Options.Rule;
        return string.Create(CultureInfo.InvariantCulture,
            $"STDP window: {Options.Pairings} pairings at {Options.FrequencyHz:G4} Hz per dt, {Points.Count} values of dt from {Points.Min(p => p.DeltaTMs):G4} to {Points.Max(p => p.DeltaTMs):G4} ms; {r.Pairing}, mu+ {r.MuPlus:G3}, mu- {r.MuMinus:G3}, lambda {r.Lambda:G3}, alpha {r.Alpha:G3}, tau+ {r.TauPlusMs:G3} ms, tau- {r.TauMinusMs:G3} ms, w_max {r.WMax:G3}, w0 {Options.InitialWeight:G3}, delay {Options.DelayMs:G3} ms, engine {Options.Engine}\n") + string.Create(CultureInfo.InvariantCulture,
            $"largest dw: {Points.Max(p => p.MeasuredDw):G6} (closed form {Points.Max(p => p.ClosedFormDw):G6}); smallest: {Points.Min(p => p.MeasuredDw):G6} ({Points.Min(p => p.ClosedFormDw):G6})\n") + string.Create(CultureInfo.InvariantCulture,
            $"max |measured - closed form| = {MaxDeviation:G3}\ntime: {Seconds:F2} s\n");
    }
}

/// <summary>Options of the frequency protocol of triplet STDP.</summary>
public sealed record TripletFrequencyOptions
{
    /// <summary>The rule (default: the visual-cortex all-to-all parameters, W_max = 100).</summary>
    public TripletStdpParameters Rule { get; init; } = new();
    /// <summary>Initial weight (the changes are reported relative to it).</summary>
    public double InitialWeight { get; init; } = 1.0;
    /// <summary>Pairings per cell (Sjöström et al. 2001: 60; more at high frequency in the experiment, 60 in the model fit).</summary>
    public int Pairings { get; init; } = 60;
    /// <summary>Pairing frequencies (Hz).</summary>
    public IReadOnlyList<double> FrequenciesHz { get; init; } = [0.1, 1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50];
    /// <summary>Δt = t_post − t_pre (ms).</summary>
    public IReadOnlyList<double> DeltaTsMs { get; init; } = [10.0, -10.0];
    /// <summary>dt (ms).</summary>
    public double DtMs { get; init; } = 0.1;
    /// <summary>The synapses' (dendritic) delay (ms).</summary>
    public double DelayMs { get; init; } = 0.1;
    /// <summary>F of the weight grid.</summary>
    public int WeightFractionBits { get; init; } = 20;
    /// <summary>Grid engine name.</summary>
    public string Engine { get; init; } = "event";

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public void Validate()
    {
        Rule.Validate();
        if (Pairings < 1) throw new ArgumentException($"pairings: must be ≥ 1, got {Pairings}");
        if (FrequenciesHz.Count == 0 || FrequenciesHz.Any(f => !(f > 0) || !double.IsFinite(f))) throw new ArgumentException("frequencies: must be > 0 Hz");
        foreach (double f in FrequenciesHz)
            if (DeltaTsMs.Any(t => !(Math.Abs(t) < 1000 / f))) throw new ArgumentException($"delta-t: every |Δt| must be below the pairing period at {f} Hz");
    }
}

/// <summary>One cell of the frequency protocol.</summary>
public sealed record TripletFrequencyPoint(double FrequencyHz, double DeltaTMs, double MeasuredDw, double DirectDw, double InitialWeight)
{
    /// <summary>100·Δw/w₀.</summary>
    public double PercentChange => 100 * MeasuredDw / InitialWeight;
}

/// <summary>The frequency protocol's result.</summary>
public sealed record TripletFrequencyResult(TripletFrequencyOptions Options, IReadOnlyList<TripletFrequencyPoint> Points, double Seconds)
{
    /// <summary>max |measured − direct| over the cells.</summary>
    public double MaxDeviation => Points.Max(p => Math.Abs(p.MeasuredDw - p.DirectDw));

    /// <summary>CSV: frequency_hz, delta_t_ms, dw, dw_direct, percent.</summary>
    public string Csv()
    {
        var sb = new StringBuilder("frequency_hz,delta_t_ms,dw,dw_direct,percent\n");
        foreach (var p in Points) sb.Append(CultureInfo.InvariantCulture, $"{p.FrequencyHz:R},{p.DeltaTMs:R},{p.MeasuredDw:R},{p.DirectDw:R},{p.PercentChange:R}\n");
        return sb.ToString();
    }

    /// <summary>A table: one row per frequency, the change in % per Δt.</summary>
    public string Summary()
    {
        var sb = new StringBuilder();
        var r = Options.Rule;
        sb.Append(CultureInfo.InvariantCulture, $"triplet STDP, frequency protocol: {Options.Pairings} pairings per cell; tau+ {r.TauPlusMs:G4}, tau- {r.TauMinusMs:G4}, tau_x {r.TauXMs:G4}, tau_y {r.TauYMs:G4} ms, A2+ {r.A2Plus:G3}, A3+ {r.A3Plus:G3}, A2- {r.A2Minus:G3}, A3- {r.A3Minus:G3}; w0 {Options.InitialWeight:G3}, delay {Options.DelayMs:G3} ms, engine {Options.Engine}\n");
        sb.Append("frequency_hz");
        foreach (double t in Options.DeltaTsMs) sb.Append(CultureInfo.InvariantCulture, $"  dw%(dt={t:+0;-0} ms)");
        sb.Append('\n');
        foreach (double f in Options.FrequenciesHz)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{f,12:G4}");
            foreach (double t in Options.DeltaTsMs) sb.Append(CultureInfo.InvariantCulture, $"  {Points.First(p => p.FrequencyHz == f && p.DeltaTMs == t).PercentChange,16:F2}");
            sb.Append('\n');
        }
        sb.Append(CultureInfo.InvariantCulture, $"max |measured - direct evaluation| = {MaxDeviation:G3}\ntime: {Seconds:F2} s\n");
        return sb.ToString();
    }
}
