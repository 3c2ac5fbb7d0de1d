using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>The engine equals the naive dense reference loop bit for bit on generated networks.</summary>
public class ReferenceModelTests
{
    internal static (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) RunEngine(CompiledNetwork net, long ticks, int threads = 1, long[]? splits = null)
    {
        using var engine = new EventEngine(net, new EngineOptions { Threads = threads });
        return Record(engine, ticks, splits);
    }

    /// <summary>Runs any engine (optionally in pieces) and returns the spikes per instance and the final state of every variable.</summary>
    internal static (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) Record(ISimulationEngine engine, long ticks, long[]? splits = null)
    {
        var rec = new SpikeRecorder();
        engine.AddSpikeSink(rec);
        if (splits is null) engine.Run(ticks);
        else { long done = 0; foreach (long s in splits) { engine.Run(s); done += s; } engine.Run(ticks - done); }
        return Snapshot(engine, rec);
    }

    /// <summary>The spikes <paramref name="rec"/> recorded per instance of <paramref name="engine"/>, and the current state of every reported variable.</summary>
    internal static (List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) Snapshot(ISimulationEngine engine, SpikeRecorder rec)
    {
        var spikes = new List<(long, int)>[engine.BatchSize];
        var state = new Dictionary<string, double[]>[engine.BatchSize];
        for (int b = 0; b < engine.BatchSize; b++)
        {
            spikes[b] = [.. rec.Of(engine.FirstInstance + b)];
            state[b] = [];
            foreach (var p in engine.Network.Populations)
                foreach (var v in p.Model.ReportedVariableNames)
                    state[b][$"{p.Name}.{v}"] = engine.GetVariable(b, p.Name, v);
        }
        return (spikes, state);
    }

    internal static bool SameBits(double[] a, double[] b)
        => a.Length == b.Length && a.Zip(b).All(x => BitConverter.DoubleToInt64Bits(x.First) == BitConverter.DoubleToInt64Bits(x.Second));

    /// <summary>
    /// Poisson sources from 2 Hz (spikes hundreds of ticks apart: through the heap) to 20 kHz (several per tick: the
    /// calendar), with a start and a stop time: the engine equals the naive reference, also when run in pieces and when
    /// restored from a checkpoint in the middle (the calendar is rebuilt from the next spike times), and so does the
    /// dense engine.
    /// </summary>
    [Fact]
    public void PoissonScheduleMatchesTheReferenceAtEveryRate()
    {
        var b = new NetworkBuilder("poisson-rates") { Run = new RunOptions { DtMs = 0.1, DurationMs = 300, Seed = 9 } };
        var n = b.NeuronGroup("n", 40, new LifDeltaParameters { VThresholdMv = 2, VResetMv = 0, RefractoryMs = 0.3 });
        var p = b.PoissonGroup("p", 40, Value.PerElement([.. Enumerable.Range(0, 40).Select(i => 2.0 * Math.Pow(10, 4.0 * i / 39))]), startMs: 7.3, stopMs: 251.17);
        b.Synapses(p, n, new Connectivity.OneToOne(), 0.7);
        b.Synapses(n, n, new Connectivity.FixedProbability(0.1), Value.Uniform(-0.5, 0.6), 0.2);
        var net = NetworkCompiler.Compile(b.Build());
        long ticks = net.DurationTicks;
        var reference = NaiveReference.Run(net, ticks, 0);
        Assert.True(reference.Spikes.Count > 100, $"{reference.Spikes.Count} spikes");
        var (whole, _) = RunEngine(net, ticks);
        Assert.Equal(reference.Spikes, whole[0]);
        var (pieces, _) = RunEngine(net, ticks, splits: [1, 63, 64, 65, 700]);
        Assert.Equal(reference.Spikes, pieces[0]);
        using var first = new EventEngine(net);
        var sink = new List<(long, int)>();
        first.Run(1234);
        var checkpoint = first.SaveCheckpoint();
        using var second = new EventEngine(net);
        second.Restore(checkpoint);
        second.AddSpikeSink(new Recorder(sink));
        second.Run(ticks - 1234);
        Assert.Equal(reference.Spikes.Where(s => s.Item1 >= 1234), sink);
        using var dense = new Sim.GpuBridge.DenseEngine(net);
        Assert.Equal(reference.Spikes, Record(dense, ticks).Spikes[0]);
    }

    private sealed class Recorder(List<(long, int)> into) : ISpikeSink
    {
        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons) { foreach (int i in neurons) into.Add((tick, i)); }
    }

}
