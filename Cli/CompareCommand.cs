using System.CommandLine;
using System.Diagnostics;
using Sim.Cli.Commands;
using System.Globalization;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Experiments;
using Sim.GpuBridge;

namespace Sim.Cli;

/// <summary>
/// <c>sim compare</c>: runs one network on the <see cref="EventEngine"/> and the <see cref="DenseEngine"/> tick by tick
/// and checks that they agree bit for bit (docs/numerics.md): the same spikes per instance and tick, and the
/// same bits of every state variable after every tick.
/// </summary>
public static class CompareCommand
{
    /// <summary>Exit code when the engines diverge.</summary>
    public const int Divergent = ExitCodes.Divergent;

    /// <summary>The definition of <c>sim compare</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var file = new Argument<string?>("FILE") { Description = "network file (default: the built-in CUBA benchmark, 4000 LifExp neurons)", Arity = ArgumentArity.ZeroOrOne };
        var duration = SimOptions.DurationMs("simulated time in ms (default: the file's run duration)");
        var device = SimOptions.Choice("--device", "dense-engine device: cpu or cuda", TorchRuntime.Cpu, TorchRuntime.Cpu, "cuda");
        var cmd = new SimCommand("compare", "Run a network on the event engine and on the dense (TorchSharp) engine side by side, one tick at a time, and compare spikes (per instance, ascending neuron id) and the bits of every state variable after every tick.", """
            Prints "identical: N spikes over T ticks, B instances" and exits 0, or prints the first tick, instance and
            neuron where spikes or state diverge, with both engines' state values there, and exits 4.
            Exit 2: bad command line or network; exit 1: an engine failed (e.g. cuda requested without CUDA).
            """) { file, duration, device };
        return cmd.Does(r => Execute(r.GetValue(file), r.GetValue(duration), r.GetValue(device)!, io.Out, io.Err));
    }

    /// <summary>Runs the comparison of <paramref name="file"/> (null: the built-in CUBA) and returns the exit code.</summary>
    public static int Execute(string? file, double? durationMs, string device, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        NetworkSpec spec;
        CompiledNetwork net;
        try
        {
            spec = file is null ? BenchmarkNetworks.Cuba() : LoadFile(file);
            if (durationMs is { } dms) spec = spec with { Run = spec.Run with { DurationMs = dms } };
            spec.EnsureValid();
            net = NetworkCompiler.Compile(spec);
        }
        catch (IOException e)
        {
            throw new UsageException(e.Message);
        }

        try
        {
            return Compare(net, device, stdout);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException or DllNotFoundException)
        {
            stderr.WriteLine($"sim compare: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    private static NetworkSpec LoadFile(string path) => RunCommand.LoadFile(path);

    /// <summary>Runs both engines tick by tick; writes the verdict; returns 0 (identical) or <see cref="Divergent"/>.</summary>
    internal static int Compare(CompiledNetwork net, string device, TextWriter stdout)
    {
        long ticks = net.DurationTicks;
        using var ev = EngineFactory.CreateGrid("event", net, new EngineSettings { Threads = 1 });
        using var dense = EngineFactory.CreateGrid(device == "cuda" ? "dense-cuda" : "dense", net);
        int batch = ev.BatchSize;
        var evSpikes = new TickSpikes(ev.FirstInstance, batch);
        var denseSpikes = new TickSpikes(dense.FirstInstance, batch);
        ev.AddSpikeSink(evSpikes);
        dense.AddSpikeSink(denseSpikes);
        var variables = net.Populations.SelectMany(p => p.Model.ReportedVariableNames.Select(v => (Pop: p, Var: v))).ToArray();
        long total = 0;
        var evClock = new Stopwatch();
        var denseClock = new Stopwatch();
        for (long t = 0; t < ticks; t++)
        {
            evSpikes.Clear();
            denseSpikes.Clear();
            evClock.Start(); ev.Run(1); evClock.Stop();
            denseClock.Start(); dense.Run(1); denseClock.Stop();
            for (int b = 0; b < batch; b++)
            {
                var e = evSpikes.Of(b);
                var d = denseSpikes.Of(b);
                int k = 0;
                while (k < e.Count && k < d.Count && e[k] == d[k]) k++;
                if (k < e.Count || k < d.Count)
                {
                    int neuron = Math.Min(k < e.Count ? e[k] : int.MaxValue, k < d.Count ? d[k] : int.MaxValue);
                    stdout.WriteLine($"divergent at tick {t} (t = {(t * net.DtMs).ToString("R", CultureInfo.InvariantCulture)} ms), instance {ev.FirstInstance + b}, neuron {neuron}: " +
                        $"event engine {(e.Contains(neuron) ? "spiked" : "did not spike")}, dense engine {(d.Contains(neuron) ? "spiked" : "did not spike")}");
                    WriteNeuronState(net, ev, dense, b, neuron, stdout);
                    return Divergent;
                }
                total += e.Count;
                foreach (var (pop, variable) in variables)
                {
                    double[] x = ev.GetVariable(b, pop.Name, variable), y = dense.GetVariable(b, pop.Name, variable);
                    for (int i = 0; i < x.Length; i++)
                    {
                        if (BitConverter.DoubleToInt64Bits(x[i]) == BitConverter.DoubleToInt64Bits(y[i])) continue;
                        stdout.WriteLine($"divergent at tick {t} (t = {(t * net.DtMs).ToString("R", CultureInfo.InvariantCulture)} ms), instance {ev.FirstInstance + b}, neuron {pop.Offset + i} ({pop.Name}[{i}]): " +
                            $"state {variable} differs");
                        WriteNeuronState(net, ev, dense, b, pop.Offset + i, stdout);
                        return Divergent;
                    }
                }
            }
        }
        stdout.WriteLine($"identical: {total} spikes over {ticks} ticks, {batch} instances");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wall time: event engine {evClock.Elapsed.TotalSeconds:F2} s, dense engine ({device}) {denseClock.Elapsed.TotalSeconds:F2} s"));
        return ExitCodes.Ok;
    }

    private static void WriteNeuronState(CompiledNetwork net, ISimulationEngine ev, ISimulationEngine dense, int b, int neuron, TextWriter stdout)
    {
        var pop = net.Populations[net.PopulationOf(neuron)];
        int i = neuron - pop.Offset;
        foreach (var v in pop.Model.ReportedVariableNames)
        {
            double x = ev.GetVariable(b, pop.Name, v)[i], y = dense.GetVariable(b, pop.Name, v)[i];
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {pop.Name}[{i}].{v}: event {x:R} (0x{BitConverter.DoubleToInt64Bits(x):X16}), dense {y:R} (0x{BitConverter.DoubleToInt64Bits(y):X16})"));
        }
    }

    /// <summary>The spikes of the current tick per batch element.</summary>
    private sealed class TickSpikes(int firstInstance, int batch) : ISpikeSink
    {
        private readonly List<int>[] _spikes = [.. Enumerable.Range(0, batch).Select(_ => new List<int>())];

        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            var list = _spikes[instance - firstInstance];
            lock (list) foreach (int n in neurons) list.Add(n);
        }

        public List<int> Of(int b) => _spikes[b];

        public void Clear() { foreach (var l in _spikes) l.Clear(); }
    }
}
