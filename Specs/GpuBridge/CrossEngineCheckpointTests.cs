using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.GpuBridge;
using Sim.Specs.EventCore;
using Sim.Specs.Reference;

namespace Sim.Specs.GpuBridge;

/// <summary>A checkpoint written by one engine resumes on the other; the result equals the uninterrupted run bit for bit.</summary>
public class CrossEngineCheckpointTests
{
    private static bool ResumeMatches(CompiledNetwork net, NetCase c, long a, Func<ISimulationEngine> writer, Func<ISimulationEngine> reader)
    {
        var whole = ReferenceModelTests.RunEngine(net, c.Ticks);
        var first = new SpikeRecorder();
        Checkpoint ckpt;
        using (var w = writer())
        {
            w.AddSpikeSink(first);
            w.Run(a);
            string file = Path.Combine(Path.GetTempPath(), $"sim-x-{Guid.NewGuid():N}.ckpt");
            w.SaveCheckpoint().Save(file);
            ckpt = Checkpoint.Load(file);
            File.Delete(file);
        }
        using var r = reader();
        r.Restore(ckpt);
        var second = new SpikeRecorder();
        r.AddSpikeSink(second);
        r.Run(c.Ticks - a);
        bool ok = r.Tick == c.Ticks;
        for (int b = 0; b < r.BatchSize; b++)
        {
            var spikes = first.Of(r.FirstInstance + b).Concat(second.Of(r.FirstInstance + b)).ToList();
            ok &= spikes.SequenceEqual(whole.Spikes[b]);
            foreach (var (key, values) in whole.State[b])
            {
                var parts = key.Split('.');
                ok &= ReferenceModelTests.SameBits(values, r.GetVariable(b, parts[0], parts[1]));
            }
        }
        return ok;
    }

    [Property(Arbitrary = [typeof(SmallNetworks)], MaxTest = 40)]
    public Property EventCheckpointResumesOnDense(NetCase c, PositiveInt cut)
    {
        var net = NetworkCompiler.Compile(c.ToSpec());
        long a = cut.Get % (c.Ticks + 1);
        return ResumeMatches(net, c, a, () => new EventEngine(net), () => new DenseEngine(net)).Label($"{c}, at {a}");
    }

    [Property(Arbitrary = [typeof(SmallNetworks)], MaxTest = 40)]
    public Property DenseCheckpointResumesOnEvent(NetCase c, PositiveInt cut)
    {
        var net = NetworkCompiler.Compile(c.ToSpec());
        long a = cut.Get % (c.Ticks + 1);
        return ResumeMatches(net, c, a, () => new DenseEngine(net), () => new EventEngine(net)).Label($"{c}, at {a}");
    }
}

/// <summary>The dense engine refuses networks whose dense matrices would not fit, before allocating them.</summary>
public class DenseMemoryEstimateTests
{
    [Xunit.Fact]
    public void TooLargeDenseNetworkIsRefusedWithAClearError()
    {
        var b = new Sim.EventCore.Description.NetworkBuilder { Run = new Sim.EventCore.Description.RunOptions { DtMs = 0.1 } };
        var g = b.NeuronGroup("g", 20_000, new Sim.EventCore.Description.LifExpParameters());
        b.Synapses(g, g, new Sim.EventCore.Description.Connectivity.FixedInDegree(5), 0.1, Sim.EventCore.Description.Value.Uniform(0.1, 3.0));
        var net = NetworkCompiler.Compile(b.Build());
        var e = Xunit.Assert.Throws<Sim.EventCore.Description.SpecException>(() => new DenseEngine(net));
        Xunit.Assert.Contains("event engine", e.Message);
        Xunit.Assert.Contains("GiB", e.Message);
    }
}

/// <summary>Both engines stop runaway activity at the same tick, also for batches that start at an offset.</summary>
public class RunGuardOnBothEnginesTests
{
    [Xunit.Fact]
    public void RateGuardStopsBothEnginesAtTheSameTick()
    {
        var b = new Sim.EventCore.Description.NetworkBuilder
        {
            Run = new Sim.EventCore.Description.RunOptions { DtMs = 0.1, MaxRateHz = 50, GuardWindowMs = 20, Batch = 2, InstanceOffset = 3 },
        };
        var g = b.NeuronGroup("g", 10, new Sim.EventCore.Description.LifExpParameters());
        b.Current(g, 100.0, [0, 30], [0.0, 1.0]);   // quiet for 30 ms, then runaway
        var net = NetworkCompiler.Compile(b.Build());
        using var ev = new EventEngine(net, new EngineOptions { Threads = 1 });
        using var de = new DenseEngine(net);
        var r1 = ev.Run(100_000);
        var r2 = de.Run(100_000);
        Xunit.Assert.NotNull(r1.Stop);
        Xunit.Assert.NotNull(r2.Stop);
        Xunit.Assert.Equal(r1.Stop!.Tick, r2.Stop!.Tick);
        Xunit.Assert.Equal(3, r1.Stop.Instance);
        Xunit.Assert.Contains("runaway", r2.Stop.Reason);
        Xunit.Assert.InRange(r1.Stop.Tick, 300, 1000);
    }
}

/// <summary>Monitors attached to the dense engine record what they record on the event engine.</summary>
public class MonitorsOnBothEnginesTests
{
    [Xunit.Fact]
    public void StateAndRateMonitorsAgree()
    {
        var spec = Sim.EventCore.Description.BenchmarkNetworks.Cuba(30, seed: 4, scale: 0.1);
        spec = spec with
        {
            Run = spec.Run with { Batch = 2 },
            Monitors = [new Sim.EventCore.Description.StateMonitorSpec("exc", ["v_mv", "g_exc_mv"], [0, 5, 7], 0.3), new Sim.EventCore.Description.RateMonitorSpec("inh", 2.0)],
        };
        var net = NetworkCompiler.Compile(spec);
        using var ev = new EventEngine(net);
        using var de = new DenseEngine(net);
        using var m1 = Sim.Probes.MonitorSet.Attach(ev);
        using var m2 = Sim.Probes.MonitorSet.Attach(de);
        ev.Run(300);
        de.Run(300);
        for (int b = 0; b < 2; b++)
        {
            foreach (var v in new[] { "v_mv", "g_exc_mv" })
            {
                double[,] a = m1.States[0].Values(b, v), d = m2.States[0].Values(b, v);
                Xunit.Assert.Equal(100, a.GetLength(0));
                Xunit.Assert.Equal(a.Cast<double>(), d.Cast<double>());
            }
            Xunit.Assert.Equal(m1.Rates[0].Counts(b), m2.Rates[0].Counts(b));
        }
    }
}
