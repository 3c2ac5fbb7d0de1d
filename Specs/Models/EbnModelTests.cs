using FsCheck;
using FsCheck.Fluent;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.GpuBridge;
using Sim.Specs.Conformance;
using Sim.Specs.EventCore;
using Sim.Specs.GpuBridge;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.Models;

/// <summary>
/// The Ebn model and the greedy in-tick resolution of its fast coupling (docs/models/ebn.md, docs/architecture.md
/// "Fast coupling"): random small efficient balanced networks give the same spikes and the same bits on the event
/// engine, the dense engine and the naive reference loop (which resolves the fast coupling with its own transcription);
/// hand-made cases fix the canonical order (largest overshoot first, lowest index on ties, at most one spike per neuron
/// and tick, a spike's fast weights acting on the others before they are checked); the threshold and reset follow
/// T = (νλ_d + μλ_d² + ‖D_i‖²)/2; silenced neurons never fire; bad parameters are refused naming the field.
/// </summary>
public class EbnModelTests
{
    /// <summary>A random EBN: J, N, decoder, drive, slow weights Ω_s (trace-coupled, random) and Poisson kicks.</summary>
    public sealed record EbnCase(int Seed, int Size, int Dimensions, int Ticks, int Batch, bool Slow, bool Kicks)
    {
        public NetworkSpec ToSpec()
        {
            var rng = new Random(Seed);
            double dt = 0.1 + 0.4 * rng.NextDouble();
            double scale = 0.05 + 0.4 * rng.NextDouble();
            double[] Row(int k) => [.. Enumerable.Range(0, Size).Select(_ => k < Dimensions ? scale * (2 * rng.NextDouble() - 1) : 0.0)];
            var rows = Enumerable.Range(0, 3).Select(Row).ToArray();
            for (int i = 0; i < Size; i++) if (rows[0][i] == 0) rows[0][i] = scale;
            var b = new NetworkBuilder($"ebn{Seed}") { Run = new RunOptions { DtMs = dt, DurationMs = Ticks * dt, Seed = (ulong)Seed + 3, Batch = Batch } };
            b.NeuronGroup("ebn", Size, new EbnParameters
            {
                Dimensions = Dimensions,
                Decoder0 = Value.PerElement(rows[0]), Decoder1 = Dimensions > 1 ? Value.PerElement(rows[1]) : 0.0, Decoder2 = Dimensions > 2 ? Value.PerElement(rows[2]) : 0.0,
                LambdaDecoderPerS = 5 + 40 * rng.NextDouble(), LambdaVPerS = Value.Uniform(5, 60), Mu = Value.Uniform(0, 1e-3), Nu = rng.Next(2) == 0 ? 0.0 : Value.Uniform(0, 1e-3),
                VInit = Value.Uniform(-0.05, 0.5 * scale * scale), TraceFractionBits = 10 + rng.Next(20),
            });
            // A drive that switches sign, so that neurons of both decoder signs take turns.
            b.Current("ebn", Value.Uniform(-20, 60), [0, Ticks * dt / 3, 2 * Ticks * dt / 3], [1.0, -1.5, 2.0]);
            if (Slow) b.Synapses("ebn", "ebn", new Connectivity.AllToAll(), Value.Uniform(-2, 2));
            if (Kicks)
            {
                b.PoissonGroup("kick", 3, 200.0);
                b.Synapses("kick", "ebn", new Connectivity.FixedProbability(0.5), Value.Uniform(-0.3 * scale * scale, 0.6 * scale * scale), dt);
            }
            return b.Build();
        }
    }

    private static Arbitrary<EbnCase> Cases() => Arb.From(
        from seed in Gen.Choose(0, 1_000_000)
        from size in Gen.Choose(1, 24)
        from dims in Gen.Choose(1, 3)
        from ticks in Gen.Choose(1, 300)
        from batch in Gen.Choose(1, 3)
        from slow in Gen.Elements(false, true)
        from kicks in Gen.Elements(false, true)
        select new EbnCase(seed, size, dims, ticks, batch, slow, kicks),
        c => new[] { c with { Ticks = c.Ticks / 2 }, c with { Size = Math.Max(1, c.Size / 2) }, c with { Batch = 1 }, c with { Slow = false }, c with { Kicks = false } }
            .Where(x => x != c && x.Ticks > 0));

    /// <summary>Ticks in which more than one neuron fired (where the order of the greedy resolution matters).</summary>
    private static int CrowdedTicks(List<(long Tick, int Neuron)> spikes) => spikes.GroupBy(s => s.Tick).Count(g => g.Count() > 1);

    [Fact]
    public void EventEqualsDenseEqualsTheNaiveReferenceSpikeForSpikeAndBitForBit()
    {
        int crowded = 0, spiking = 0;
        Conformance.Conformance.Check(60, Cases(), c =>
        {
            var net = NetworkCompiler.Compile(c.ToSpec());
            var ev = ReferenceModelTests.RunEngine(net, c.Ticks);
            var dense = DenseEquivalenceTests.RunDense(net, c.Ticks);
            string? diff = DenseEquivalenceTests.FirstDifference(ev, dense);
            bool ok = diff is null;
            for (int b = 0; b < c.Batch && ok; b++)
            {
                var reference = NaiveReference.Run(net, c.Ticks, b);
                ok &= ev.Spikes[b].SequenceEqual(reference.Spikes);
                foreach (var (key, values) in reference.FinalState) ok &= ReferenceModelTests.SameBits(values, ev.State[b][key]);
                if (ev.Spikes[b].Count > 0) spiking++;
                if (CrowdedTicks(ev.Spikes[b]) > 0) crowded++;
            }
            return ok.Label($"{c}: {diff} ({ev.Spikes.Sum(s => s.Count)} spikes)");
        });
        // The generator must exercise the resolution: most cases spike, and some have several spikes in one tick.
        Assert.True(spiking > 30, $"only {spiking} instances spiked");
        Assert.True(crowded > 5, $"only {crowded} instances had a tick with several spikes");
    }

    /// <summary>Three neurons, one tick. The engines' and the reference's resolutions, given a state by hand.</summary>
    private static (List<int> Spikes, double[] V, double[] R) ResolveByHand(double[] d0, double[] d1, double[] v0, double mu = 0)
    {
        var spec = new NetworkBuilder("hand") { Run = new RunOptions { DtMs = 0.1, DurationMs = 0.1 } };
        spec.NeuronGroup("e", v0.Length, new EbnParameters { Dimensions = 2, Decoder0 = Value.PerElement(d0), Decoder1 = Value.PerElement(d1), Mu = mu, VInit = Value.PerElement(v0), LambdaVPerS = 1e-9 });
        var net = NetworkCompiler.Compile(spec.Build());
        var c = (EbnConstants)net.Populations[0].Constants;
        var v = (double[])v0.Clone();
        var z = new double[v0.Length];
        var r = new double[v0.Length];
        var spikes = new int[v0.Length];
        int count = 0;
        c.Fast.Resolve(v, z, r, 0, spikes, ref count);
        var reference = new[] { (double[])v0.Clone(), new double[v0.Length], new double[v0.Length] };
        var refSpikes = NaiveReference.GreedyResolution(c.Fast, reference).ToList();
        Assert.Equal(refSpikes, spikes[..count]);
        Assert.True(ReferenceModelTests.SameBits(reference[EbnModel.V], v));
        // And through both engines for one tick (λ_V ≈ 0, no drive: integration leaves V as it is to ~1e-13).
        var ev = ReferenceModelTests.RunEngine(net, 1);
        var dense = DenseEquivalenceTests.RunDense(net, 1);
        Assert.Null(DenseEquivalenceTests.FirstDifference(ev, dense));
        Assert.Equal(refSpikes, ev.Spikes[0].Select(s => s.Item2));
        return ([.. spikes[..count]], v, r);
    }

    [Fact]
    public void TheLargestOvershootFiresFirstAndItsFastWeightsSilenceTheRedundantNeuron()
    {
        // Neurons 0 and 1 share a decoder direction; 1 is further above threshold (T = ‖D‖²/2 = 0.5): only 1 fires,
        // and its fast weight −D_0ᵀD_1 = −1 pulls neuron 0 below threshold. Neuron 2 (orthogonal) fires independently.
        var (spikes, v, r) = ResolveByHand([1, 1, 0], [0, 0, 1], [0.8, 0.9, 0.6]);
        Assert.Equal([1, 2], spikes);
        Assert.Equal(0.8 - 1.0, v[0], 12);
        Assert.Equal(0.9 - 1.0, v[1], 12);   // its own reset: −‖D_1‖²
        Assert.Equal([0.0, 1.0, 1.0], r);
    }

    [Fact]
    public void TiesGoToTheLowestIndex()
    {
        var (spikes, _, _) = ResolveByHand([1, 1], [0, 0], [0.75, 0.75]);
        Assert.Equal([0], spikes);
    }

    [Fact]
    public void ASpikeCanPushAnOppositeNeuronOverThresholdInTheSameTick()
    {
        // D_1 = −D_0: the fast weight from 0 to 1 is +‖D‖² = +1, so 0's spike lifts 1 from −0.3 to 0.7 > 0.5; 1 fires
        // next in the same tick, and its fast weight +1 lifts 0 from −0.45 to 0.55, but 0 has fired already: at most one
        // spike per neuron and tick.
        var (spikes, v, _) = ResolveByHand([1, -1], [0, 0], [0.55, -0.3]);
        Assert.Equal([0, 1], spikes);
        Assert.Equal(0.55 - 1 + 1, v[0], 12);
        Assert.Equal(-0.3 + 1 - 1, v[1], 12);
    }

    [Fact]
    public void ThresholdAndResetFollowTheDecoderNormAndTheSpikeCosts()
    {
        const double Mu = 1e-3, Nu = 2e-3, LambdaD = 10;
        var b = new NetworkBuilder("one") { Run = new RunOptions { DtMs = 0.1, DurationMs = 0.1 } };
        b.NeuronGroup("e", 1, new EbnParameters { Dimensions = 3, Decoder0 = 0.3, Decoder1 = -0.4, Decoder2 = 0.1, Mu = Mu, Nu = Nu, LambdaDecoderPerS = LambdaD });
        var c = (EbnConstants)NetworkCompiler.Compile(b.Build()).Populations[0].Constants;
        double norm2 = 0.09 + 0.16 + 0.01;
        Assert.Equal((Nu * LambdaD + Mu * LambdaD * LambdaD + norm2) / 2, c.Fast.Threshold[0], 9);
        Assert.Equal(-(norm2 + Mu * LambdaD * LambdaD), c.Fast.Weight[0], 9);
        // The reset is the fast self-weight: from V = T + ε to T + ε − 2T + νλ_d.
        Assert.Equal(c.Fast.Threshold[0] * 2 - Nu * LambdaD, -c.Fast.Weight[0], 15);
    }

    [Fact]
    public void SilencedNeuronsNeverFire()
    {
        var b = new NetworkBuilder("dead") { Run = new RunOptions { DtMs = 0.1, DurationMs = 50 } };
        b.NeuronGroup("e", 4, new EbnParameters { Dimensions = 1, Decoder0 = Value.PerElement(0.1, 0.1, -0.1, -0.1), Alive = Value.PerElement(1, 0, 1, 0) });
        b.Current("e", 50.0);
        var run = ReferenceModelTests.RunEngine(NetworkCompiler.Compile(b.Build()), 500);
        Assert.Contains(run.Spikes[0], s => s.Item2 == 0);
        Assert.Contains(run.Spikes[0], s => s.Item2 == 2);
        Assert.DoesNotContain(run.Spikes[0], s => s.Item2 is 1 or 3);
    }

    [Fact]
    public void TheSlowTraceStaysOnItsGridAndBelowItsBound()
    {
        var b = new NetworkBuilder("bound") { Run = new RunOptions { DtMs = 1, DurationMs = 2000 } };
        b.NeuronGroup("e", 1, new EbnParameters { Dimensions = 1, Decoder0 = 1e-3, LambdaDecoderPerS = 50, TraceFractionBits = 12 });
        b.Current("e", 1e6);   // fires every tick
        var net = NetworkCompiler.Compile(b.Build());
        var c = (EbnConstants)net.Populations[0].Constants;
        using var e = new EventEngine(net);
        e.Run(2000);
        double r = e.GetVariable(0, "e", "r")[0];
        Assert.True(r <= c.TraceBound && r > 0.9 * c.TraceBound, $"r = {r} with the bound {c.TraceBound}");
        Assert.Null(EbnModel.Instance.CheckStoredValues(c, EbnModel.R, [r]));
        Assert.NotNull(EbnModel.Instance.CheckStoredValues(c, EbnModel.R, [r + Math.ScaleB(1.0, -14)]));
    }

    [Fact]
    public void TheGreedyResolutionAllocatesNothingPerTick()
    {
        var b = new NetworkBuilder("alloc") { Run = new RunOptions { DtMs = 0.1, Seed = 9 } };
        var rng = new Random(9);
        double[] Row() => [.. Enumerable.Range(0, 60).Select(_ => 0.1 * (2 * rng.NextDouble() - 1))];
        b.NeuronGroup("e", 60, new EbnParameters { Dimensions = 2, Decoder0 = Value.PerElement(Row()), Decoder1 = Value.PerElement(Row()) });
        b.Synapses("e", "e", new Connectivity.AllToAll(), Value.Uniform(-0.5, 0.5));
        b.Current("e", Value.Uniform(-5, 40), [0, 100], [1.0, -1.0]);
        b.PoissonGroup("kick", 5, 300.0);
        b.Synapses("kick", "e", new Connectivity.FixedProbability(0.3), 0.002);
        using var engine = new EventEngine(NetworkCompiler.Compile(b.Build()), new EngineOptions { Threads = 1 });
        var count = new CountingSink();
        engine.AddSpikeSink(count);
        engine.Run(3000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long spikes = count.Spikes;
        engine.Run(1000);
        engine.Run(1000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(count.Spikes - spikes > 100, $"{count.Spikes - spikes} spikes");
    }

    private sealed class CountingSink : ISpikeSink
    {
        public long Spikes;
        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons) => Spikes += neurons.Length;
    }

    private static string Yaml(string pars, string extra = "")
        => $"name: bad\nrun: {{dt_ms: 0.1, duration_ms: 1}}\npopulations:\n  - name: e\n    size: 2\n    model: ebn\n    params: {{{pars}}}\n{extra}";

    [Fact]
    public void BadParametersAreRefusedNamingTheField()
    {
        var zero = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(NetworkFile.Parse(Yaml("dimensions: 2, decoder0: [0.1, 0], decoder1: [0.2, 0]"))));
        Assert.Contains(zero.Errors, x => x.Field == "populations[0].params.decoder0" && x.Message.Contains("neuron 1 has a zero decoder column", StringComparison.Ordinal));
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("decoder0: 0.1, lambda_decoder_per_s: 0"))).Errors, x => x.Field == "populations[0].params.lambda_decoder_per_s");
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("decoder0: 0.1, lambda_v_per_s: -1"))).Errors, x => x.Field == "populations[0].params.lambda_v_per_s");
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("decoder0: 0.1, dimensions: 1, decoder1: 0.2"))).Errors, x => x.Field == "populations[0].params.decoder1");
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("decoder0: 0.1, dimensions: 4"))).Errors, x => x.Field == "populations[0].params.dimensions");
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("decoder0: 0.1, alive: 0.5"))).Errors, x => x.Field == "populations[0].params.alive");
        var noisy = new NetworkBuilder("noisy");
        noisy.NeuronGroup("e", 2, new EbnParameters { Decoder0 = 0.1 }, new EscapeNoise(1));
        Assert.Contains(Assert.Throws<SpecException>(() => noisy.Build()).Errors, x => x.Field == "populations[0].escape_noise");
        Assert.Contains(Sim.EventCore.Precise.PreciseEngine.Unsupported(NetworkFile.Parse(Yaml("decoder0: 0.1"))), e => e.Message.Contains("ebn", StringComparison.Ordinal));
    }
}
