using BenchmarkDotNet.Attributes;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.Experiments;
using Sim.Plasticity;

namespace Sim.Bench;

/// <summary>
/// The rank-R rule's online update alone (docs/rules/rank_r.md step 4) for N = 150: filter, D·err, the product with ψ
/// (the model's pseudo-derivative, here given: the engine computes it from v before the call), SGD on the N×N master
/// weights. A learning epoch inside the event engine, where the rule also writes the weights onto the network's grid,
/// is <see cref="StoreRecallEpoch"/>.
/// </summary>
[MemoryDiagnoser]
public class RuleUpdate
{
    private const int N = 150;
    private RankRUpdate _update = null!;
    private double[] _z = [], _psi = [], _ej = [], _target = [];

    /// <summary>Random D (full rank), inputs drawn once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var b = new double[N * N];
        for (int k = 0; k < b.Length; k++) b[k] = rng.NextDouble() - 0.5;
        _update = new RankRUpdate(N, Feedback.RankR(b, N, N), 1.0, 4.64, new Sgd(LearningRate.FivePerSqrtN(N)), 20);
        _z = new double[N]; _psi = new double[N]; _ej = new double[N]; _target = new double[N];
        for (int i = 0; i < N; i++)
        {
            _z[i] = rng.Next(20) == 0 ? 1 : 0;
            _psi[i] = Sim.EventCore.Models.SigmoidPseudoDerivative.Of(rng.NextDouble() * 4 - 2);
            _ej[i] = rng.NextDouble() * 0.1;
            _target[i] = rng.NextDouble() * 0.2;
        }
    }

    /// <summary>One update (N² = 22 500 weights).</summary>
    [Benchmark]
    public double Update()
    {
        _update.Update(_z, _psi, _ej, _target);
        return _update.Weights[1];
    }
}

/// <summary>One learning epoch of a store-and-recall cell (N = T = 150, R = 150, τ⋆ = 4.64 dt) on the event engine.</summary>
[MemoryDiagnoser]
public class StoreRecallEpoch
{
    private ISimulationEngine _engine = null!;

    /// <summary>The cell's engine and rule exactly as <see cref="StoreRecall.Run"/> sets them up, reused across epochs.</summary>
    [GlobalSetup]
    public void Setup() => (_engine, _) = new StoreRecall(new StoreRecallOptions { ReadoutIterations = 200 }).CreateLearner();

    /// <summary>Disposes the engine.</summary>
    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();

    /// <summary>Reset, then 150 ticks with an online update every tick.</summary>
    [Benchmark]
    public long Epoch()
    {
        _engine.ResetState();
        long ticks = _engine.Run(150).TicksRun;
        _engine.EndTrial();
        return ticks;
    }
}

/// <summary>
/// The cost of STDP on the event engine (docs/rules/stdp.md): CUBA (4000 LifExp neurons, 0.2 s) static, and with
/// multiplicative pair STDP on its exc→exc synapses (<c>sim bench</c>'s cuba-stdp rule), back to back in one run. Each
/// iteration resets the engine to tick 0 (the STDP weights carry over, as across trials) and runs 2000 ticks.
/// </summary>
[MemoryDiagnoser]
public class CubaPlasticity
{
    private ISimulationEngine _engine = null!;

    /// <summary>static or stdp.</summary>
    [Params("static", "stdp")]
    public string Mode { get; set; } = "static";

    /// <summary>The compiled network and the engine (with the rule for stdp).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var net = NetworkCompiler.Compile(Sim.EventCore.Description.BenchmarkNetworks.Cuba(200, 1) with { Monitors = [] });
        _engine = EngineFactory.CreateGrid("event", net, new EngineSettings { Batch = 1, Threads = 1 });
        if (Mode == "stdp") _engine.AddPlasticityRule(StdpProtocols.CubaStdp());
    }

    /// <summary>Disposes the engine.</summary>
    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();

    /// <summary>Reset, then 0.2 s of CUBA.</summary>
    [Benchmark]
    public long Run()
    {
        _engine.ResetState();
        return _engine.Run(2000).TicksRun;
    }
}

/// <summary>
/// The STDP cost bar as a macro run (<c>dotnet run -c Release --project Bench -- stdp-cost [repeats]</c>): CUBA for 1 s
/// on the event engine (one thread), static and with <see cref="StdpProtocols.CubaStdp"/>, alternating (static, stdp,
/// static, …) after a warm-up of each so that both see the same machine load; each run on a fresh engine. Prints per run
/// the wall time and the process CPU time, and the medians and their ratios, with the synaptic events per second
/// (Σ over spikes of the source's fan-out; no inputs in CUBA).
/// </summary>
public static class StdpCost
{
    /// <summary>Runs the comparison and prints it.</summary>
    public static void Run(int repeats, TextWriter output)
    {
        var net = NetworkCompiler.Compile(Sim.EventCore.Description.BenchmarkNetworks.Cuba(1000, 1) with { Monitors = [] });
        var fanOut = new long[net.SourceCount];
        var syn = net.Synapses;
        for (int s = 0; s < net.SourceCount; s++)
            for (int g = syn.SegmentOffsets[s]; g < syn.SegmentOffsets[s + 1]; g++) fanOut[s] += syn.SegmentStart[g + 1] - syn.SegmentStart[g];
        var walls = new Dictionary<string, List<double>> { ["static"] = [], ["stdp"] = [] };
        var cpus = new Dictionary<string, List<double>> { ["static"] = [], ["stdp"] = [] };
        var events = new Dictionary<string, long>();
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (int r = -1; r < repeats; r++)
            foreach (string mode in new[] { "static", "stdp" })
            {
                using var engine = EngineFactory.CreateGrid("event", net, new EngineSettings { Batch = 1, Threads = 1 });
                if (mode == "stdp") engine.AddPlasticityRule(StdpProtocols.CubaStdp());
                var counter = new Counter(fanOut);
                engine.AddSpikeSink(counter);
                engine.ResetState();
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                engine.Run(net.DurationTicks);
                double wall = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
                process.Refresh();
                double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
                if (r < 0) continue;
                walls[mode].Add(wall);
                cpus[mode].Add(cpu);
                events[mode] = counter.Events;
                output.WriteLine(FormattableString.Invariant($"run {r} {mode,-6}: wall {wall:F4} s, cpu {cpu:F4} s, {counter.Spikes} spikes, {counter.Events} synaptic events"));
            }
        static double Median(List<double> x) { var s = x.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
        foreach (string mode in new[] { "static", "stdp" })
            output.WriteLine(FormattableString.Invariant(
                $"{mode,-6}: median wall {Median(walls[mode]):F4} s per simulated s, median cpu {Median(cpus[mode]):F4} s; {events[mode] / Median(walls[mode]):E3} synaptic events per wall s"));
        output.WriteLine(FormattableString.Invariant(
            $"stdp / static: wall {Median(walls["stdp"]) / Median(walls["static"]):F2}x, cpu {Median(cpus["stdp"]) / Median(cpus["static"]):F2}x (median of {repeats} alternating runs each)"));
        var binding = new Sim.EventCore.Plasticity.PlasticityBinding(net);
        StdpProtocols.CubaStdp().Bind(binding);
        var p = binding.Projections[0];
        long copy = 4L * net.Synapses.Count + 8L * net.NeuronCount, state = binding.StateBytesPerInstance, index = p.IndexBytes;
        output.WriteLine(FormattableString.Invariant(
            $"{p.Count} plastic synapses: bytes per plastic synapse {(double)(copy + state + index) / p.Count:F2} = weight copy {(double)copy / p.Count:F2} + rule state {(double)state / p.Count:F2} (per instance) + indices {(double)index / p.Count:F2} (per engine)"));
    }

    private sealed class Counter(long[] fanOut) : ISpikeSink
    {
        public long Spikes, Events;
        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            Spikes += neurons.Length;
            foreach (int n in neurons) Events += fanOut[n];
        }
    }
}
