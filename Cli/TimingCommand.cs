using System.CommandLine;
using Sim.Cli.Commands;
using System.Diagnostics;
using System.Globalization;
using Sim.EventCore.Compilation;
using Sim.Experiments;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Precise;
using Sim.Probes.Analysis;
using Sim.Probes.Plots;
using static Sim.Cli.Formatting;

namespace Sim.Cli;

/// <summary>One row of the <c>sim timing</c> table: the event engine at one dt against the precise engine.</summary>
/// <param name="DtMs">Grid step (ms).</param>
/// <param name="Spikes">Grid spikes.</param>
/// <param name="MeanAbsErrorMs">Mean |t_grid − t_precise| over matched grid spikes (ms).</param>
/// <param name="MedianAbsErrorMs">Median |t_grid − t_precise| over matched grid spikes (ms): robust to the few spikes that one engine has and the other has not.</param>
/// <param name="MeanErrorMs">Mean t_grid − t_precise (ms): the bias of the grid's spike-time label.</param>
/// <param name="Unmatched">Grid spikes of neurons without any precise spike.</param>
/// <param name="VanRossum">Mean over neurons of the van Rossum distance to the precise train, per τ.</param>
/// <param name="WallSeconds">Wall time of the grid run.</param>
public sealed record TimingRow(double DtMs, long Spikes, double MeanAbsErrorMs, double MedianAbsErrorMs, double MeanErrorMs, long Unmatched, double[] VanRossum, double WallSeconds);

/// <summary>
/// <c>sim timing [FILE]</c>: how the spike times of the grid (event) engine converge to the continuous-time
/// <see cref="PreciseEngine"/> as dt shrinks. Error measure: every grid spike (labelled tick·dt) is matched to the
/// nearest precise spike of the same neuron (no window); the table gives the mean |Δ| and mean Δ, Δ = t_grid − t_precise,
/// and the van Rossum distance per neuron (mean over all neurons, silent pairs count 0) at each τ.
/// </summary>
public static class TimingCommand
{
    /// <summary>The built-in feed-forward network: LifExp neurons driven by Poisson sources only.</summary>
    /// <param name="durationMs">Duration (ms).</param>
    /// <param name="seed">Seed.</param>
    /// <param name="neurons">Neurons.</param>
    public static NetworkSpec FeedForward(double durationMs = 500, ulong seed = 1, int neurons = 200)
    {
        var b = new NetworkBuilder("feedforward") { Run = new RunOptions { DtMs = 0.1, DurationMs = durationMs, Seed = seed } };
        var lif = new LifExpParameters
        {
            TauMemMs = 20, TauExcMs = 5, TauInhMs = 10, ELeakMv = -60, VThresholdMv = -50, VResetMv = -60,
            RefractoryMs = 2, VInitMv = Value.Uniform(-60, -50),
        };
        var pop = b.NeuronGroup("neurons", neurons, lif);
        var drive = b.PoissonGroup("drive", 500, 10.0);
        b.Synapses(drive, pop, new Connectivity.FixedInDegree(100), weight: 2.0, delayMs: 1.0);
        b.Monitor(new SpikeMonitorSpec([pop]));
        return b.Build();
    }

    /// <summary>The definition of <c>sim timing</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var file = new Argument<string?>("FILE") { Description = "network file (default: the built-in feed-forward network)", Arity = ArgumentArity.ZeroOrOne };
        var dts = SimOptions.PositiveList("--dt-ms", "grid steps (ms; default 0.1,0.05,0.025,0.0125)");
        var taus = SimOptions.PositiveList("--tau-ms", "van Rossum time scales (ms; default 1,5,20)");
        var duration = SimOptions.DurationMs("simulated time (default: 500 ms built-in, the file's duration for FILE)", allowZero: false);
        var seed = SimOptions.Seed("seed override");
        var feedforward = SimOptions.Flag("--feedforward", "drop projections between populations (the built-in network has none)");
        var recurrent = SimOptions.Flag("--recurrent", "built-in network: CUBA-PS (LifDelta, recurrent) at --scale instead of the feed-forward one");
        var scale = SimOptions.OptionalPositive("--scale", "CUBA-PS scale (default 0.1: 400 neurons)", "S");
        var quick = SimOptions.Quick("100 ms and dt 0.1, 0.025 (a smoke test)");
        var outDir = SimOptions.Out("parent folder of the timing folder (default sim-runs)");
        var noPlot = SimOptions.NoPlot("timing.png");
        var cmd = new SimCommand("timing", "Spike-time error of the grid engine against the precise (continuous-time) engine as dt shrinks: a table on stdout, timing.csv and a log-log timing.png in a new folder OUT/timing-NAME-STAMP.", """
              mean |Δt|   every grid spike (time tick·dt) is matched to the nearest precise spike of the same neuron
                          (no window; grid spikes of neurons with no precise spike are counted as unmatched);
                          mean |t_grid − t_precise| over the matched ones, and the signed mean (bias)
              vR τ        van Rossum distance between the grid and the precise train of each neuron, mean over neurons
                          (one extra or missing spike alone gives 0.71): τ is resolved at the dt where vR τ ≪ 0.7

            Network: without FILE, a feed-forward network (200 LifExp neurons, each driven by 100 of 500 Poisson sources
            at 10 Hz, weight 2 mV, delay 1 ms, no recurrence). Recurrent networks are chaotic: a tiny early timing
            difference changes every later spike, so grid and precise trains decorrelate whatever dt is; only an
            input-driven network without recurrence shows the convergence. --recurrent takes the built-in CUBA-PS instead.
            FILE runs as given; --feedforward removes its projections between populations (only inputs drive).
            The grid engines need every delay ≥ one tick: e.g. CUBA-PS (delay 0.125 ms) works for dt ≤ 0.125.
            """) { file, dts, taus, duration, seed, feedforward, recurrent, scale, quick, outDir, noPlot };
        SimOptions.Exclusive(cmd, recurrent, feedforward);
        cmd.Validators.Add(r =>
        {
            if (r.GetResult(recurrent) is { Implicit: false } && r.GetValue(file) is not null) r.AddError("option --recurrent selects the built-in CUBA-PS; it does not go with FILE");
            if (r.GetResult(scale) is { Implicit: false } && r.GetResult(recurrent) is not { Implicit: false }) r.AddError("option --scale applies to --recurrent (the built-in CUBA-PS) only");
        });
        return cmd.Does(r => Execute(r.GetValue(file), r.GivenValue(dts), r.GivenValue(taus) ?? [1, 5, 20], r.GetValue(duration), r.GetValue(scale), r.GetValue(seed),
            r.GetValue(feedforward), r.GetValue(recurrent), r.GetValue(quick), r.GetValue(outDir) ?? "sim-runs", !r.GetValue(noPlot), io.Out));
    }

    /// <summary>Runs the comparison; returns the exit code.</summary>
    public static int Execute(string? file, double[]? dtList, double[] taus, double? duration, double? scale, ulong? seed,
        bool feedforward, bool recurrent, bool quick, string outDir, bool plot, TextWriter stdout)
    {
        bool dtGiven = dtList is not null;
        double[] dts = dtList ?? [0.1, 0.05, 0.025, 0.0125];
        if (quick)
        {
            duration ??= 100;
            if (!dtGiven) dts = [0.1, 0.025];
        }
        dts = [.. dts.Distinct().OrderByDescending(d => d)];

        NetworkSpec spec;
        string what;
        if (file is not null)
        {
            spec = RunCommand.LoadFile(file);
            what = $"{spec.Name} ({file}{(feedforward ? ", projections between populations removed" : "")})";
        }
        else if (recurrent)
        {
            double sc = scale ?? 0.1;
            spec = BenchmarkNetworks.CubaPs(500, scale: sc);
            what = $"cuba-ps at scale {Num(sc)} (built-in, recurrent: expect decorrelation, not convergence)";
        }
        else
        {
            spec = FeedForward();
            what = "feedforward (built-in: 200 LifExp neurons, Poisson-driven, no recurrence)";
        }
        if (feedforward)
        {
            var populations = spec.Populations.Select(p => p.Name).ToHashSet();
            spec = spec with { Projections = [.. spec.Projections.Where(p => !populations.Contains(p.Source))] };
        }
        spec = spec with { Run = spec.Run with { DurationMs = duration ?? spec.Run.DurationMs, Seed = seed ?? spec.Run.Seed, Batch = 1, Threads = 1 } };
        spec.EnsureValid();
        double durationMs = spec.Run.DurationMs;

        OutputFolder.EnsureWritable(outDir, "--out");   // before the measurement, not after it
        var result = Measure(spec, dts, taus, out var precise);
        string dir = RunCommand.CreateRunDirectory(outDir, "timing-" + spec.Name);

        stdout.WriteLine($"network      {what}");
        stdout.WriteLine($"neurons      {precise.Neurons:N0}; {Num(durationMs)} ms; seed {spec.Run.Seed}");
        stdout.WriteLine($"precise      {precise.Spikes:N0} spikes, {precise.Events:N0} events, {precise.WallSeconds:F3} s wall");
        stdout.WriteLine("error        every grid spike (t = tick·dt) vs the nearest precise spike of the same neuron; Δ = t_grid − t_precise");
        stdout.WriteLine();
        var table = new List<string>
        {
            $"{"dt (ms)",9}{"spikes",9}{"mean |Δt| ms",14}{"median |Δt|",13}{"mean Δt ms",12}{"unmatched",11}" + string.Concat(taus.Select(t => $"{$"vR τ={Num(t)}",11}")) + $"{"wall s",9}",
        };
        foreach (var r in result)
            table.Add($"{Num(r.DtMs),9}{r.Spikes,9}{Num(r.MeanAbsErrorMs),14}{Num(r.MedianAbsErrorMs),13}{Num(r.MeanErrorMs),12}{r.Unmatched,11}" + string.Concat(r.VanRossum.Select(v => $"{Num(v),11}")) + $"{r.WallSeconds,9:F3}");
        foreach (var line in table) stdout.WriteLine(line);

        string csv = Path.Combine(dir, "timing.csv");
        File.WriteAllLines(csv, [
            "dt_ms,spikes,precise_spikes,mean_abs_error_ms,median_abs_error_ms,mean_error_ms,unmatched," + string.Join(",", taus.Select(t => $"van_rossum_tau_{t.ToString(CultureInfo.InvariantCulture)}_ms")) + ",wall_s",
            .. result.Select(r => string.Join(",", new[] { r.DtMs, r.Spikes, precise.Spikes, r.MeanAbsErrorMs, r.MedianAbsErrorMs, r.MeanErrorMs, r.Unmatched }.Concat(r.VanRossum).Append(r.WallSeconds)
                .Select(v => Convert.ToDouble(v, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)))),
        ]);
        stdout.WriteLine();
        stdout.WriteLine($"outputs      {dir}");
        stdout.WriteLine("             timing.csv");
        if (plot)
        {
            var x = result.Select(r => r.DtMs).ToArray();
            LogLogPlot.Save(Path.Combine(dir, "timing.png"), [
                new LogLogPanel($"{spec.Name}: grid (event engine) vs precise spike times, {Num(durationMs)} ms", "dt (ms)", "mean |t_grid − t_precise| (ms)", [
                    new LogLogSeries("mean |Δt| (nearest precise spike, same neuron)", x, [.. result.Select(r => r.MeanAbsErrorMs)]),
                    new LogLogSeries("median |Δt|", x, [.. result.Select(r => r.MedianAbsErrorMs)]),
                    new LogLogSeries("dt / 2 (reference)", x, [.. x.Select(d => d / 2)]),
                ]),
                new LogLogPanel("van Rossum distance per neuron to the precise train (0.71 = one spike off)", "dt (ms)", "mean D", [
                    .. taus.Select((t, k) => new LogLogSeries($"τ = {Num(t)} ms", x, [.. result.Select(r => r.VanRossum[k])])),
                ]),
            ]);
            stdout.WriteLine("             timing.png");
        }
        return ExitCodes.Ok;
    }

    /// <summary>What the precise reference run gave.</summary>
    /// <param name="Neurons">Neurons.</param>
    /// <param name="Spikes">Spikes.</param>
    /// <param name="Events">Events processed.</param>
    /// <param name="WallSeconds">Wall time.</param>
    public sealed record PreciseReference(int Neurons, long Spikes, long Events, double WallSeconds);

    private sealed class GridRecorder(int neurons, double dtMs) : ISpikeSink
    {
        public readonly List<double>[] Times = [.. Enumerable.Range(0, neurons).Select(_ => new List<double>())];
        public long Count;

        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            foreach (int n in neurons) { Times[n].Add(tick * dtMs); Count++; }
        }
    }

    /// <summary>
    /// Runs <paramref name="spec"/> (batch 1, its duration) on the precise engine and on the event engine at each dt,
    /// and compares the spike trains neuron by neuron (see the class remarks). Delays below one tick of a dt throw the
    /// compiler's <see cref="SpecException"/>.
    /// </summary>
    public static IReadOnlyList<TimingRow> Measure(NetworkSpec spec, IReadOnlyList<double> dtsMs, IReadOnlyList<double> tausMs, out PreciseReference precise)
    {
        double durationMs = spec.Run.DurationMs;
        var net = EngineFactory.Compile("precise", spec);
        var engine = EngineFactory.CreatePrecise(net);
        var recorder = new PreciseSpikeRecorder();
        engine.AddSpikeSink(recorder);
        var clock = Stopwatch.StartNew();
        engine.RunMs(durationMs);
        precise = new PreciseReference(net.NeuronCount, engine.SpikeCount, engine.EventsProcessed, clock.Elapsed.TotalSeconds);
        var reference = new List<double>[net.NeuronCount];
        for (int i = 0; i < reference.Length; i++) reference[i] = [];
        foreach (var (t, n) in recorder.Spikes) reference[n].Add(t);
        var exact = reference.Select(l => l.ToArray()).ToArray();

        var rows = new List<TimingRow>();
        foreach (double dt in dtsMs)
        {
            var gridSpec = spec with { Run = spec.Run with { DtMs = dt } };
            var gridNet = NetworkCompiler.Compile(gridSpec);
            using var grid = EngineFactory.CreateGrid("event", gridNet);
            var rec = new GridRecorder(gridNet.NeuronCount, dt);
            grid.AddSpikeSink(rec);
            clock.Restart();
            grid.Run(gridNet.DurationTicks);
            double wall = clock.Elapsed.TotalSeconds;

            double sum = 0, sumAbs = 0;
            long matched = 0, unmatched = 0;
            var abs = new List<double>();
            var vr = new double[tausMs.Count];
            for (int n = 0; n < exact.Length; n++)
            {
                var p = exact[n];
                var g = rec.Times[n].Where(t => t < durationMs).ToArray();
                foreach (double t in g)
                {
                    int k = Array.BinarySearch(p, t);
                    if (k < 0) k = ~k;
                    double best = double.PositiveInfinity;
                    if (k < p.Length) best = t - p[k];
                    if (k > 0 && t - p[k - 1] < Math.Abs(best)) best = t - p[k - 1];
                    if (double.IsInfinity(best)) { unmatched++; continue; }
                    matched++; sum += best; sumAbs += Math.Abs(best); abs.Add(Math.Abs(best));
                }
                for (int j = 0; j < tausMs.Count; j++) vr[j] += SpikeTrainDistances.VanRossum(g, p, tausMs[j]);
            }
            for (int j = 0; j < vr.Length; j++) vr[j] /= Math.Max(1, exact.Length);
            abs.Sort();
            double median = abs.Count == 0 ? double.NaN : abs.Count % 2 == 1 ? abs[abs.Count / 2] : (abs[abs.Count / 2 - 1] + abs[abs.Count / 2]) / 2;
            rows.Add(new TimingRow(dt, rec.Count, matched > 0 ? sumAbs / matched : double.NaN, median, matched > 0 ? sum / matched : double.NaN, unmatched, vr, wall));
        }
        return rows;
    }
}
