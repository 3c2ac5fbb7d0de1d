using System.CommandLine;
using Sim.Cli.Commands;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary>
/// <c>sim bench</c>: runs the macro benchmark set (CUBA, COBA, Brunel 2000, the low-rate family; docs/benchmarks.md) on the
/// <see cref="EventEngine"/> and prints one table row per network: size, simulated time, mean rate, wall time per
/// simulated second (median of several timed runs after a warm-up run), synaptic events per wall second, memory and
/// bytes per synapse.
/// </summary>
/// <remarks>
/// A synaptic event is one spike arriving at one synapse: Σ over source spikes of that source's out-degree (from
/// <see cref="SynapseTable.SegmentOffsets"/> and <see cref="SynapseTable.SegmentStart"/>). Neuron spikes are counted by an
/// <see cref="ISpikeSink"/> during the timed run; Poisson input spikes, which sinks do not see, are counted exactly
/// afterwards from the engine's per-source spike counters (<see cref="InstanceCheckpoint.PoissonCount"/>).
/// Every timed run uses a fresh engine (same network, same seed), so all repeats simulate the same spikes.
/// </remarks>
public static class BenchCommand
{
    /// <summary>What <c>sim bench --help</c> prints after the options.</summary>
    private const string Epilog = """
        Runs the macro benchmark set on one engine (single thread, one instance) and prints a table:
          cuba            CUBA, 4000 LifExp neurons (docs/benchmarks.md), 1 s
          cuba-stdp       CUBA with multiplicative pair STDP on its exc->exc synapses (docs/rules/stdp.md), 1 s; also
                          prints the bytes per plastic synapse
          coba            COBA, 4000 conductance-based LIF neurons (Brette et al. 2007, benchmark 1), 1 s
          brunel-A, -D    Brunel 2000 at scale 0.2 (2500 LifDelta neurons, C_E 200, C_I 50), regimes A and D, 0.5 s
          lowrate-10Hz, -1Hz, -0.1Hz
                          input-driven CUBA-like network, 4000 neurons, mean rate set by the drive (docs/benchmarks.md), 1 s
          cuba-ps         CUBA with LifDelta neurons and 0.125 ms delays (docs/benchmarks.md, the precise engine's benchmark), 1 s
          store-recall    one learning epoch of the store-and-recall task (N = T = R = 150, tau* = 4.64 dt; the
                          rank-R rule on the chosen engine; 'sim s' counts the 0.15 s of one epoch, 20 epochs timed)
        Each network runs once to warm up, then N more times (fresh engine each); the table gives the median.

        Columns: neurons, synapses, simulated s, mean rate (Hz), wall s per simulated s (median), synaptic events
        per wall second (Σ over spikes, recurrent and input, of the source's fan-out), peak working set of the
        process so far (MiB; networks run in table order), managed heap with the engine alive (MiB), bytes per
        synapse of the synapse table.

        Exit codes: 0 ok, 1 a run failed, 2 bad arguments or no network matches the filter.
        """;

    /// <summary>One network of the set, buildable at a given duration (null: the store-and-recall epoch, measured by <see cref="MeasureStoreRecall"/>).</summary>
    private sealed record Case(string Name, double DurationMs, double QuickDurationMs, Func<double, NetworkSpec>? Build,
        Func<CompiledNetwork, Sim.EventCore.Plasticity.IPlasticityRule>? Rule = null);


    private static readonly Case[] Cases =
    [
        new("cuba", 1000, 100, d => BenchmarkNetworks.Cuba(d, 1)),
        new("cuba-stdp", 1000, 100, d => BenchmarkNetworks.Cuba(d, 1), _ => StdpProtocols.CubaStdp()),
        new("coba", 1000, 100, d => BenchmarkNetworks.Coba(d, 1)),
        new("brunel-A", 500, 50, d => BenchmarkNetworks.Brunel(BrunelRegime.A, 0.2, d, 1)),
        new("brunel-D", 500, 50, d => BenchmarkNetworks.Brunel(BrunelRegime.D, 0.2, d, 1)),
        new("lowrate-10Hz", 1000, 100, d => BenchmarkNetworks.LowRate(10, 4000, d, 1)),
        new("lowrate-1Hz", 1000, 100, d => BenchmarkNetworks.LowRate(1, 4000, d, 1)),
        new("lowrate-0.1Hz", 1000, 100, d => BenchmarkNetworks.LowRate(0.1, 4000, d, 1)),
        new("cuba-ps", 1000, 100, d => BenchmarkNetworks.CubaPs(d, 1)),
        new("store-recall", 0, 0, null),
    ];

    /// <summary>Names of the networks in the set, in table order.</summary>
    public static IReadOnlyList<string> NetworkNames => [.. Cases.Select(c => c.Name)];

    /// <summary>The definition of <c>sim bench</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var quick = SimOptions.Quick("short runs (50-100 ms simulated, 1 timed repeat): a smoke test for CI");
        var filter = SimOptions.Make<string?>("--filter", "only networks whose name contains NAME (case-insensitive)", "NAME", s => s.Length > 0 ? (s, null) : (null, "is not a network name"));
        var repeats = SimOptions.OptionalInt("--repeats", "timed repeats after the warm-up (default 3; --quick: 1)", 1, "N");
        var engine = SimOptions.Engine("event: the grid engine; precise: continuous time, event-driven (its cost follows the number of events, not neurons x steps; exact delays); dense: TorchSharp on the CPU. Under precise, store-recall and coba run on the event engine, marked \"(event)\" (no GoalLif neurons, no exact propagator for conductances)",
            "event", "precise", "dense");
        var cmd = new SimCommand("bench", "Macro benchmarks on one engine (single thread, one instance): CUBA, COBA, Brunel, the low-rate family, CUBA-PS, one store-recall epoch; wall s per simulated s, synaptic events/s, memory, bytes per synapse.", Epilog)
        { quick, filter, repeats, engine };
        return cmd.Does(r => Execute(r.GetValue(quick), r.GetValue(filter), r.GetValue(repeats), r.GetValue(engine)!, io.Out, io.Err));
    }

    /// <summary>Runs the set (networks whose name contains <paramref name="filter"/>), prints the table; returns the exit code.</summary>
    public static int Execute(bool quick, string? filter, int? repeats, string engineName, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var selected = Cases.Where(c => filter is null || c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (selected.Length == 0)
            throw new UsageException($"no network matches '{filter}' (networks: {string.Join(", ", Cases.Select(c => c.Name))})");
        int timed = repeats ?? (quick ? 1 : 3);

        string engineLabel = engineName switch { "precise" => "PreciseEngine", "dense" => "DenseEngine (cpu)", _ => "EventEngine" };
        stdout.WriteLine($"sim bench: {engineLabel}, 1 thread, 1 instance; {Environment.ProcessorCount} logical CPU(s), " +
                         $"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}; warm-up + {timed} timed run(s), median");
        var notes = new List<string>();
        var table = new Table(["network", "neurons", "synapses", "sim s", "rate Hz", "wall s/sim s", "syn events/s", "peak WS MiB", "heap MiB", "B/syn"]);
        foreach (var c in selected)
        {
            try
            {
                Measurement m;
                string name = c.Name;
                if (c.Build is null)
                {
                    m = MeasureStoreRecall(quick ? 3 : 20, timed, engineName == "dense" ? EngineFactory.GridFactory("dense") : null);
                    if (engineName == "precise") name += " (event)";
                }
                else
                {
                    var spec = c.Build(quick ? c.QuickDurationMs : c.DurationMs);
                    // A network the precise engine cannot run (a model without an exact propagator) runs on the event
                    // engine, labelled so.
                    bool fallback = engineName == "precise" && EngineFactory.Check("precise", spec).Count > 0;
                    if (fallback) name += " (event)";
                    if (c.Rule is not null && engineName == "precise")
                        throw new UsageException($"{c.Name} needs plasticity, which the precise engine does not run (use --engine event or dense, or --filter)");
                    Func<CompiledNetwork, ISimulationEngine>? factory = engineName == "dense" ? EngineFactory.GridFactory("dense") : null;
                    if (c.Rule is { } rule)
                    {
                        var inner = factory ?? (n => EngineFactory.CreateGrid("event", n, new EngineSettings { Batch = 1, Threads = 1 }));
                        factory = n => { var e = inner(n); e.AddPlasticityRule(rule(n)); return e; };
                    }
                    m = (fallback ? "event" : engineName) switch
                    {
                        "precise" => MeasurePrecise(spec, timed),
                        _ => Measure(spec, timed, factory),
                    };
                    if (c.Rule is { } r2) notes.Add($"{c.Name}: {PlasticBytes(NetworkCompiler.Compile(spec), r2)}");
                }
                table.Add([
                    name, m.Neurons.ToString("N0", CultureInfo.InvariantCulture), m.Synapses.ToString("N0", CultureInfo.InvariantCulture),
                    F(m.SimulatedSeconds, "G3"), F(m.RateHz, "F3"), F(m.WallPerSimSecond, "F4"), F(m.EventsPerWallSecond, "E3"),
                    F(m.PeakWorkingSetBytes / 1048576.0, "F1"), F(m.HeapBytes / 1048576.0, "F1"), F(m.BytesPerSynapse, "F2"),
                ]);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                stderr.WriteLine($"sim bench: {c.Name} failed: {e.Message}");
                return ExitCodes.Failure;
            }
        }
        table.Write(stdout);
        foreach (var note in notes) stdout.WriteLine(note);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The memory a rule adds per plastic synapse: per instance the copy of the spike table's weights (4 B per synapse
    /// of the whole table) and its per-target row sums (8 B per neuron), the rule's declared state (per-synapse state,
    /// traces, the post-spike ring); per engine the plastic projections' indices.
    /// </summary>
    public static string PlasticBytes(CompiledNetwork net, Func<CompiledNetwork, Sim.EventCore.Plasticity.IPlasticityRule> rule)
    {
        var binding = new Sim.EventCore.Plasticity.PlasticityBinding(net);
        rule(net).Bind(binding);
        long plastic = binding.Projections.Sum(p => (long)p.Count);
        long copy = 4L * net.Synapses.Target.Length + 8L * net.NeuronCount, state = binding.StateBytesPerInstance;
        long index = binding.Projections.Sum(p => p.IndexBytes);
        return FormattableString.Invariant(
            $"{plastic:N0} plastic synapses; bytes per plastic synapse {(double)(copy + state + index) / plastic:F2} = weight copy {(double)copy / plastic:F2} + rule state {(double)state / plastic:F2} (per instance) + indices {(double)index / plastic:F2} (per engine)");
    }

    /// <summary>What one network measured.</summary>
    /// <param name="Neurons">Neurons.</param>
    /// <param name="Synapses">Spike-coupled synapses (recurrent and input).</param>
    /// <param name="SimulatedSeconds">Simulated time per run.</param>
    /// <param name="RateHz">Mean rate over all neurons.</param>
    /// <param name="WallPerSimSecond">Median wall seconds per simulated second.</param>
    /// <param name="Events">Synaptic events per run.</param>
    /// <param name="EventsPerWallSecond">Synaptic events per wall second (median run).</param>
    /// <param name="PeakWorkingSetBytes">Peak working set of the process so far.</param>
    /// <param name="HeapBytes">Managed heap with the compiled network and an engine alive.</param>
    /// <param name="BytesPerSynapse">Bytes of the synapse table per synapse.</param>
    public sealed record Measurement(int Neurons, long Synapses, double SimulatedSeconds, double RateHz, double WallPerSimSecond,
        long Events, double EventsPerWallSecond, long PeakWorkingSetBytes, long HeapBytes, double BytesPerSynapse);

    /// <summary>Compiles <paramref name="spec"/>, runs it once to warm up and <paramref name="repeats"/> times timed.</summary>
    public static Measurement Measure(NetworkSpec spec, int repeats, Func<CompiledNetwork, ISimulationEngine>? engineFactory = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var net = NetworkCompiler.Compile(spec with { Run = spec.Run with { Batch = 1, InstanceOffset = 0, Threads = 1 } });
        var syn = net.Synapses;
        var fanOut = FanOut(syn, net.SourceCount);
        long ticks = net.DurationTicks;
        double simSeconds = ticks * net.DtMs / 1000.0;

        var walls = new double[repeats];
        long spikes = 0, events = 0, heap = 0;
        for (int r = -1; r < repeats; r++)
        {
            using var engine = engineFactory?.Invoke(net) ?? EngineFactory.CreateGrid("event", net, new EngineSettings { Batch = 1, Threads = 1 });
            var counter = new EventCounter(fanOut);
            engine.AddSpikeSink(counter);
            long t0 = Stopwatch.GetTimestamp();
            var result = engine.Run(ticks);
            double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (result.Stop is not null) throw new InvalidOperationException($"stopped by a guard: {result.Stop}");
            if (r < 0) continue;   // warm-up
            walls[r] = wall;
            long inputEvents = 0;
            var poissonCount = engine.SaveCheckpoint().Instances[0].PoissonCount;
            for (int s = net.NeuronCount; s < poissonCount.Length; s++) inputEvents += poissonCount[s] * fanOut[s];
            spikes = counter.Spikes;
            events = counter.Events + inputEvents;
            heap = Math.Max(heap, GC.GetTotalMemory(false));
        }
        return Summarise(net, simSeconds, walls, spikes, events, heap);
    }

    /// <summary>
    /// As <see cref="Measure"/> on the continuous-time <see cref="Sim.EventCore.Precise.PreciseEngine"/> (exact delays
    /// compiled in). Synaptic events: Σ over neuron spikes of the fan-out, plus Σ over the Poisson input spikes of
    /// their fan-out (the input spike times are the engine's own draws, counted outside the timed region).
    /// </summary>
    public static Measurement MeasurePrecise(NetworkSpec spec, int repeats)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var net = EngineFactory.Compile("precise", spec with { Run = spec.Run with { Batch = 1, InstanceOffset = 0, Threads = 1 } });
        var syn = net.Synapses;
        var fanOut = FanOut(syn, net.SourceCount);
        double durationMs = spec.Run.DurationMs, simSeconds = durationMs / 1000.0;
        long inputEvents = 0;
        foreach (var inp in net.Inputs)
        {
            if (inp.RatePerMs is null) continue;
            var ps = (PoissonInput)inp.Spec;
            for (int s = 0; s < inp.Size; s++)
            {
                if (inp.RatePerMs[s] <= 0) continue;
                long k = 0;
                for (double t = inp.NextPoissonTimeMs(net.Seed, 0, s, 0, ps.StartMs); t < durationMs && !inp.PoissonStopped(t);
                     t = inp.NextPoissonTimeMs(net.Seed, 0, s, ++k, t))
                    inputEvents += fanOut[inp.Offset + s];
            }
        }
        var walls = new double[repeats];
        long spikes = 0, events = 0, heap = 0;
        for (int r = -1; r < repeats; r++)
        {
            var engine = EngineFactory.CreatePrecise(net, 0);
            var counter = new PreciseCounter(fanOut);
            engine.AddSpikeSink(counter);
            long t0 = Stopwatch.GetTimestamp();
            engine.RunMs(durationMs);
            double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (r < 0) continue;
            walls[r] = wall;
            spikes = counter.Spikes;
            events = counter.Events + inputEvents;
            heap = Math.Max(heap, GC.GetTotalMemory(false));
        }
        return Summarise(net, simSeconds, walls, spikes, events, heap);
    }

    private sealed class PreciseCounter(long[] fanOut) : Sim.EventCore.Precise.IPreciseSpikeSink
    {
        public long Spikes;
        public long Events;

        public void OnSpike(int instance, double timeMs, int neuron)
        {
            Spikes++;
            Events += fanOut[neuron];
        }
    }

    /// <summary>
    /// One store-and-recall learning epoch (N = T = R = 150, τ⋆ = 4.64 dt, seed 1) with the rank-R rule, on the event
    /// engine or the engine <paramref name="engineFactory"/> makes: <paramref name="epochs"/> epochs per repeat after one
    /// warm-up repeat; "simulated seconds" are the epochs' 0.15 s each, so wall s per simulated s = (ms per epoch)/150.
    /// </summary>
    public static Measurement MeasureStoreRecall(int epochs, int repeats, Func<CompiledNetwork, ISimulationEngine>? engineFactory = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var options = new StoreRecallOptions { Epochs = epochs, ReadoutIterations = 200 };
        var walls = new double[repeats];
        for (int r = -1; r < repeats; r++)
        {
            var result = new StoreRecall(options, engineFactory).Run();
            if (result.Failure is not null) throw new Sim.EventCore.Plasticity.PlasticWeightException(result.Failure);   // never time a cut-short run
            if (r >= 0) walls[r] = result.SecondsPerEpoch * epochs;   // r = −1: warm-up
        }
        var net = NetworkCompiler.Compile(new StoreRecall(options).BuildNetwork(null));
        double simSeconds = epochs * options.Steps * net.DtMs / 1000.0;
        // Static (clock) and plastic (trace-coupled W_rec) synapses; the rate and events of a learning run are not counted.
        return Summarise(net, simSeconds, walls, 0, 0, GC.GetTotalMemory(false)) with
        {
            Synapses = net.Synapses.Count + net.TraceSynapses.Count,
            RateHz = double.NaN,
            EventsPerWallSecond = double.NaN,
            BytesPerSynapse = double.NaN,
        };
    }

    /// <summary>Synapses per source (the Σ of its segments).</summary>
    private static long[] FanOut(SynapseTable syn, int sources)
    {
        var fanOut = new long[sources];
        for (int s = 0; s < fanOut.Length && s + 1 < syn.SegmentOffsets.Length; s++)
            fanOut[s] = syn.SegmentStart[syn.SegmentOffsets[s + 1]] - syn.SegmentStart[syn.SegmentOffsets[s]];
        return fanOut;
    }

    /// <summary>The median wall time of the timed repeats and the per-network figures of the table.</summary>
    private static Measurement Summarise(CompiledNetwork net, double simSeconds, double[] walls, long spikes, long events, long heap)
    {
        Array.Sort(walls);
        int repeats = walls.Length;
        double median = repeats % 2 == 1 ? walls[repeats / 2] : 0.5 * (walls[repeats / 2 - 1] + walls[repeats / 2]);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var syn = net.Synapses;
        return new Measurement(net.NeuronCount, syn.Count, simSeconds, simSeconds > 0 ? spikes / (net.NeuronCount * simSeconds) : 0,
            simSeconds > 0 ? median / simSeconds : 0, events, median > 0 ? events / median : 0,
            process.PeakWorkingSet64, heap, syn.Count > 0 ? (double)syn.Bytes / syn.Count : 0);
    }

    private static string F(double v, string format) => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Counts neuron spikes and the synaptic events they cause (Σ fan-out).</summary>
    private sealed class EventCounter(long[] fanOut) : ISpikeSink
    {
        public long Spikes;
        public long Events;

        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            Spikes += neurons.Length;
            foreach (int n in neurons) Events += fanOut[n];
        }
    }

    /// <summary>A plain-text table with right-aligned columns (the first left-aligned).</summary>
    private sealed class Table(string[] header)
    {
        private readonly List<string[]> _rows = [];

        public void Add(string[] row) => _rows.Add(row);

        public void Write(TextWriter w)
        {
            var widths = header.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
            string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
            w.WriteLine(Line(header));
            w.WriteLine(string.Join("  ", widths.Select(x => new string('-', x))));
            foreach (var r in _rows) w.WriteLine(Line(r));
        }
    }
}
