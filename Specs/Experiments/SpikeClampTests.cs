using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Numerics;
using Sim.GpuBridge;
using Sim.Specs.EventCore;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>
/// The spike clamp of the per-tick I/O hook (teacher forcing, ITickInputs.Clamp): a clamped neuron spikes (1) or stays
/// silent (0) whatever its membrane did, the clamped spike acts as a spike in every respect (reset and trace of the next
/// tick, delivery, sinks), the membrane is left alone; the same bits on both grid engines, through a checkpoint too.
/// </summary>
public class SpikeClampTests
{
    private const int N = 24;

    /// <summary>GoalLif with a random recurrent (trace-coupled) projection and a clock input.</summary>
    private static CompiledNetwork Network(int batch)
    {
        var b = new NetworkBuilder("clamp") { Run = new RunOptions { DtMs = 1, DurationMs = 100, Seed = 5, Batch = batch } };
        b.NeuronGroup("rec", N, new GoalLifParameters { TauMemMs = 6, VInit = Value.Uniform(-6, 1) });
        b.Clock("clock", 4, 10);
        b.Synapses("clock", "rec", new Connectivity.AllToAll(), Value.Normal(0, 15), projectionName: "w_in");
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: false), Value.Uniform(-4, 4), projectionName: "w_rec", weightFractionBits: 20);
        return NetworkCompiler.Compile(b.Build());
    }

    /// <summary>Clamps a draw of (instance, tick, neuron) to 1 (p = 0.15), to 0 (p = 0.15) or leaves it free.</summary>
    private sealed class RandomClamp(long from = 0) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => [];
        public IReadOnlyList<string> ClampedPopulations => ["rec"];
        public void BeforeTick(int instance, long tick, ITickInputs inputs)
        {
            var c = inputs.Clamp(0);
            for (int i = 0; i < c.Length; i++)
            {
                double u = CounterRng.Uniform01(CounterRng.Word(CounterRng.Key(99, (ulong)instance, (ulong)tick, 0), (ulong)i));
                c[i] = tick < from ? double.NaN : u < 0.15 ? 1 : u < 0.3 ? 0 : double.NaN;
            }
        }
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    /// <summary>Records z and v after every tick of instance 0 and checks that clamped neurons took their clamped value.</summary>
    private sealed class Checker(bool clamping) : ITickIO
    {
        public readonly List<double[]> V = [], Z = [];
        public int Clamped;
        public IReadOnlyList<string> InputPopulations => [];
        public void BeforeTick(int instance, long tick, ITickInputs inputs) { }
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state)
        {
            if (instance != 0) return;
            var v = new double[N]; var z = new double[N];
            for (int i = 0; i < N; i++) { v[i] = state.Read(0, "v", i); z[i] = state.Read(0, "z", i); }
            V.Add(v); Z.Add(z);
            for (int i = 0; i < N; i++)
            {
                double u = CounterRng.Uniform01(CounterRng.Word(CounterRng.Key(99, 0, (ulong)tick, 0), (ulong)i));
                double expected = !clamping ? double.NaN : u < 0.15 ? 1 : u < 0.3 ? 0 : double.NaN;
                if (double.IsNaN(expected)) Assert.Equal(v[i] > 0 ? 1.0 : 0.0, z[i]);   // free: the threshold's own decision
                else { Assert.Equal(expected, z[i]); Clamped++; }
                Assert.Equal(z[i] == 1, spikes.Contains(i));                          // the clamped spike is delivered/recorded
            }
        }
    }

    private static (List<(long, int)>[] Spikes, Checker Check) Run(bool dense, int batch, bool clamp = true)
    {
        var net = Network(batch);
        using ISimulationEngine e = dense ? new DenseEngine(net) : new EventEngine(net, new EngineOptions { Threads = 2 });
        if (clamp) e.AddTickIO(new RandomClamp());
        var check = new Checker(clamp);
        e.AddTickIO(check);
        var rec = new SpikeRecorder();
        e.AddSpikeSink(rec);
        e.Run(100);
        return ([.. Enumerable.Range(0, batch).Select(b => rec.Of(e.FirstInstance + b).ToList())], check);
    }

    [Fact]
    public void ClampedSpikesActAsSpikesAndBothEnginesAgreeBitForBit()
    {
        var ev = Run(dense: false, batch: 2);
        var dn = Run(dense: true, batch: 2);
        Assert.True(ev.Check.Clamped > 500, $"{ev.Check.Clamped} clamped neuron-ticks");
        for (int b = 0; b < 2; b++) Assert.Equal(ev.Spikes[b], dn.Spikes[b]);
        for (int t = 0; t < 100; t++)
        {
            Assert.True(ReferenceModelTests.SameBits(ev.Check.V[t], dn.Check.V[t]), $"v differs at tick {t}");
            Assert.True(ReferenceModelTests.SameBits(ev.Check.Z[t], dn.Check.Z[t]), $"z differs at tick {t}");
        }
        // The clamp changes the run: the free network spikes differently.
        var free = Run(dense: false, batch: 1, clamp: false);
        Assert.NotEqual(free.Spikes[0], ev.Spikes[0]);
    }

    /// <summary>
    /// The clamped spike is the whole effect: without recurrence and input, a neuron clamped to 1 at tick t gets exactly
    /// reset·1 added to v[t+1] (v ← reset·z + a, with a the same as unclamped), and its membrane is not touched at tick t.
    /// </summary>
    [Fact]
    public void AClampedSpikeResetsTheNextTickAndLeavesTheMembraneAlone()
    {
        var b = new NetworkBuilder("one") { Run = new RunOptions { DtMs = 1, DurationMs = 10, Seed = 1 } };
        b.NeuronGroup("rec", 1, new GoalLifParameters { VInit = -4 });
        var net = NetworkCompiler.Compile(b.Build());
        foreach (bool dense in new[] { false, true })
        {
            double[] Trace(bool clampAt3)
            {
                using ISimulationEngine e = dense ? new DenseEngine(net) : new EventEngine(net);
                e.AddTickIO(new ClampAt(clampAt3 ? 3 : -1));
                var v = new List<double>();
                for (int t = 0; t < 6; t++) { e.Run(1); v.Add(e.GetVariable(0, "rec", "v")[0]); }
                return [.. v];
            }
            var free = Trace(false);
            var clamped = Trace(true);
            Assert.Equal(free[..4], clamped[..4]);                  // up to and including the clamped tick: v unchanged
            var c = (Sim.EventCore.Models.GoalLifConstants)net.Populations[0].Constants;
            double a = free[3] * c.AlphaMem[0];
            a = (c.Bias[0]) * c.OneMinusAlphaMem[0] + a;           // c = 0 + 0 + bias (no input), as the kernel sums it
            Assert.Equal(c.ResetJump[0] * 1 + a, clamped[4]);       // the reset of the clamped spike, exactly
            Assert.Equal(a, free[4]);
        }
    }

    private sealed class ClampAt(long tick) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => [];
        public IReadOnlyList<string> ClampedPopulations => ["rec"];
        public void BeforeTick(int instance, long t, ITickInputs inputs) => inputs.Clamp(0)[0] = t == tick ? 1 : double.NaN;
        public void AfterTick(int instance, long t, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    /// <summary>The clamp is held state: a checkpoint carries it, and a run resumed on either engine equals the whole run.</summary>
    [Fact]
    public void AHeldClampSurvivesACheckpointOnEitherEngine()
    {
        var net = Network(2);
        foreach (bool savedOnDense in new[] { false, true })
            foreach (bool resumedOnDense in new[] { false, true })
            {
                Checkpoint ck;
                List<(long, int)>[] whole;
                using (ISimulationEngine e = savedOnDense ? new DenseEngine(net) : new EventEngine(net))
                {
                    e.AddTickIO(new ClampOnce(40));
                    var rec = new SpikeRecorder();
                    e.AddSpikeSink(rec);
                    e.Run(50);
                    ck = e.SaveCheckpoint();
                    e.Run(50);
                    whole = [.. Enumerable.Range(0, 2).Select(b => rec.Of(e.FirstInstance + b).Where(x => x.Tick >= 50).ToList())];
                }
                using ISimulationEngine r = resumedOnDense ? new DenseEngine(net) : new EventEngine(net);
                r.AddTickIO(new ClampOnce(40));   // writes only at tick 40: the restored clamp must hold
                var rec2 = new SpikeRecorder();
                r.AddSpikeSink(rec2);
                r.Restore(ck);
                r.Run(50);
                for (int b = 0; b < 2; b++)
                {
                    Assert.Equal(whole[b], rec2.Of(r.FirstInstance + b));
                    Assert.Equal(50, whole[b].Count(x => x.Item2 == 3));   // neuron 3 held at 1, neuron 5 held silent
                    Assert.DoesNotContain(whole[b], x => x.Item2 == 5);
                }
            }
    }

    private sealed class ClampOnce(long tick) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => [];
        public IReadOnlyList<string> ClampedPopulations => ["rec"];
        public void BeforeTick(int instance, long t, ITickInputs inputs)
        {
            if (t != tick) return;
            var c = inputs.Clamp(0);
            c[3] = 1; c[5] = 0;
        }
        public void AfterTick(int instance, long t, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    /// <summary>A model without a clampable spike variable, and a clamp value other than 0, 1 or NaN, get clear errors.</summary>
    [Fact]
    public void UnclampableModelsAndBadValuesAreRefused()
    {
        var b = new NetworkBuilder("lif") { Run = new RunOptions { DtMs = 0.1, DurationMs = 10, Seed = 1 } };
        b.NeuronGroup("p", 3, new LifExpParameters());
        var lif = NetworkCompiler.Compile(b.Build());
        var net = Network(1);
        foreach (bool dense in new[] { false, true })
        {
            using (ISimulationEngine e = dense ? new DenseEngine(lif) : new EventEngine(lif))
            {
                var err = Assert.Throws<ArgumentException>(() => e.AddTickIO(new Named("p", 0.5)));
                Assert.Contains("cannot be clamped", err.Message);
            }
            using ISimulationEngine g = dense ? new DenseEngine(net) : new EventEngine(net);
            g.AddTickIO(new Named("rec", 0.5));
            var bad = Assert.Throws<InvalidOperationException>(() => g.Run(1));
            Assert.Contains("must be 0, 1 or NaN", bad.Message);
        }
    }

    private sealed class Named(string population, double value) : ITickIO
    {
        public IReadOnlyList<string> InputPopulations => [];
        public IReadOnlyList<string> ClampedPopulations => [population];
        public void BeforeTick(int instance, long t, ITickInputs inputs) => inputs.Clamp(0)[0] = value;
        public void AfterTick(int instance, long t, ReadOnlySpan<int> spikes, IStateReader state) { }
    }
}
