using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>Each class of bad input gives a clear error naming the field, never a crash or a silent wrong answer.</summary>
public class ValidationTests
{
    private static NetworkBuilder Base(out string g, RunOptions? run = null)
    {
        var b = new NetworkBuilder { Run = run ?? new RunOptions { DtMs = 0.1 } };
        g = b.NeuronGroup("g", 10, new LifExpParameters());
        return b;
    }

    private static SpecError Single(Action build)
    {
        var e = Assert.Throws<SpecException>(build);
        Assert.NotEmpty(e.Errors);
        return e.Errors[0];
    }

    [Fact]
    public void NaNParameterIsRejected()
    {
        var b = new NetworkBuilder();
        b.NeuronGroup("g", 3, new LifExpParameters { ELeakMv = double.NaN });
        var e = Single(() => b.Build());
        Assert.Equal("populations[0].params.e_leak_mv", e.Field);
        Assert.Contains("finite", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-5.0)]
    public void NonPositiveTimeConstantIsRejected(double tau)
    {
        var b = new NetworkBuilder();
        b.NeuronGroup("g", 3, new LifExpParameters { TauMemMs = tau });
        var e = Single(() => b.Build());
        Assert.Equal("populations[0].params.tau_mem_ms", e.Field);
        Assert.Contains("> 0", e.Message);
    }

    [Fact]
    public void DrawnNonPositiveTimeConstantIsRejectedAtCompile()
    {
        var b = new NetworkBuilder();
        b.NeuronGroup("g", 50, new LifExpParameters { TauMemMs = Value.Normal(1, 5, -20, 20) });
        var spec = b.BuildUnchecked();
        Assert.Contains(spec.Validate(), e => e.Field == "populations[0].params.tau_mem_ms");
    }

    [Fact]
    public void DelayBelowOneTickIsRejected()
    {
        var b = Base(out var g);
        b.Synapses(g, g, new Connectivity.OneToOne(), 1.0, 0.04);
        var e = Single(() => b.Build());
        Assert.Equal("projections[0].delay_ms", e.Field);
        Assert.Contains("below one tick", e.Message);
    }

    [Fact]
    public void IndexOutOfRangeIsRejected()
    {
        var b = Base(out var g);
        b.Synapses(g, g, new Connectivity.PairList([0, 10], [1, 2]), 1.0);
        var e = Single(() => b.Build());
        Assert.Equal("projections[0].connectivity.pre", e.Field);
        Assert.Contains("out of range", e.Message);
    }

    [Fact]
    public void UnknownSourceAndInputTargetAreRejected()
    {
        var b = Base(out var g);
        var p = b.PoissonGroup("p", 2, 5);
        b.Synapses("nope", g, new Connectivity.AllToAll(), 1.0);
        b.Synapses(g, p, new Connectivity.AllToAll(), 1.0);
        var errors = Assert.Throws<SpecException>(() => b.Build()).Errors;
        Assert.Contains(errors, e => e.Field == "projections[0].source" && e.Message.Contains("nope"));
        Assert.Contains(errors, e => e.Field == "projections[1].target" && e.Message.Contains("input"));
    }

    [Fact]
    public void InconsistentResetAndThresholdIsRejected()
    {
        var b = new NetworkBuilder();
        b.NeuronGroup("g", 3, new LifExpParameters { VResetMv = -40, VThresholdMv = -50 });
        Assert.Equal("populations[0].params.v_reset_mv", Single(() => b.Build()).Field);
    }

    [Fact]
    public void BadRunOptionsAreRejected()
    {
        var b = Base(out _, new RunOptions { DtMs = -0.1, DurationMs = double.PositiveInfinity, Batch = 0 });
        var errors = Assert.Throws<SpecException>(() => b.Build()).Errors.Select(e => e.Field).ToList();
        Assert.Contains("run.dt_ms", errors);
        Assert.Contains("run.duration_ms", errors);
        Assert.Contains("run.batch", errors);
    }

    [Fact]
    public void DuplicateNamesAndBadSizesAreRejected()
    {
        var b = new NetworkBuilder();
        b.NeuronGroup("g", 0, new LifExpParameters());
        b.NeuronGroup("g", 3, new LifDeltaParameters());
        var errors = Assert.Throws<SpecException>(() => b.Build()).Errors;
        Assert.Contains(errors, e => e.Field == "populations[0].size");
        Assert.Contains(errors, e => e.Field == "populations[1].name" && e.Message.Contains("already used"));
    }

    [Fact]
    public void NetworkTooLargeForMemoryIsRefusedBeforeAllocating()
    {
        var b = new NetworkBuilder();
        var g = b.NeuronGroup("g", 200_000, new LifExpParameters());
        b.Synapses(g, g, new Connectivity.AllToAll(), 0.1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(b.Build()));
        Assert.Contains("projections[0]", e.Message);
        Assert.Contains("GiB", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 50_000_000, "the compiler allocated before refusing");
    }

    [Fact]
    public void BatchTooLargeForMemoryIsRefused()
    {
        var b = Base(out var g, new RunOptions { DtMs = 0.1, Batch = 1000 });
        b.Synapses(g, g, new Connectivity.AllToAll(), 0.1, 50.0);
        var net = NetworkCompiler.Compile(b.Build());
        var e = Assert.Throws<SpecException>(() => new EventEngine(net, new EngineOptions { MemoryBudgetBytes = 10_000_000 }));
        Assert.Equal("run.batch", e.Errors[0].Field);
    }

    [Fact]
    public void WeightsThatDoNotFitTheirGridAreRejected()
    {
        var b = Base(out var g);
        b.Synapses(g, g, new Connectivity.AllToAll(), 1e6, weightFractionBits: 24);
        Assert.Equal("projections[0].weight_fraction_bits", Single(() => b.Build()).Field);
    }

    [Fact]
    public void RunawayActivityStopsTheRunWithAReason()
    {
        var b = Base(out var g, new RunOptions { DtMs = 0.1, MaxRateHz = 50, GuardWindowMs = 20 });
        b.Current(g, 100.0);
        using var engine = new EventEngine(NetworkCompiler.Compile(b.Build()));
        var result = engine.Run(100_000);
        Assert.NotNull(result.Stop);
        Assert.Contains("runaway", result.Stop!.Reason);
        Assert.True(result.TicksRun < 100_000);
        Assert.Throws<InvalidOperationException>(() => engine.Run(1));
    }

    [Fact]
    public void ErrorsCarryTheFileLocationWhenKnown()
    {
        var b = new NetworkBuilder();
        b.NeuronGroup("g", 3, new LifExpParameters { TauMemMs = -1 });
        var spec = b.BuildUnchecked() with
        {
            SourceFile = "net.yaml",
            Locations = new Dictionary<string, SourceLocation> { ["populations[0]"] = new("net.yaml", 4, 5), ["populations[0].params.tau_mem_ms"] = new("net.yaml", 9, 19) },
        };
        var error = Assert.Single(spec.Validate());
        Assert.Equal("net.yaml:9:19: populations[0].params.tau_mem_ms: must be > 0, got -1", error.ToString());
    }

    [Fact]
    public void ACorruptSynapseTableIsRefusedBeforeTheUncheckedDeliveryRuns()
    {
        // The delivery loop has no bounds checks; the engine validates the table once (it is read-only outside EventCore,
        // so only an internal write, as here, could break it) and refuses a target outside [0, N) or a bad segment.
        NetworkSpec Spec() => BenchmarkNetworks.Cuba(10, seed: 1, scale: 0.05);
        var badTarget = NetworkCompiler.Compile(Spec());
        badTarget.Synapses.TargetArray[7] = badTarget.NeuronCount;
        Assert.Contains("target", Assert.Throws<InvalidOperationException>(() => new EventEngine(badTarget)).Message);
        var badSegment = NetworkCompiler.Compile(Spec());
        badSegment.Synapses.SegmentStartArray[1] = badSegment.Synapses.Count + 1;
        Assert.Contains("segment", Assert.Throws<InvalidOperationException>(() => new EventEngine(badSegment)).Message);
        var good = NetworkCompiler.Compile(Spec());
        using (new EventEngine(good)) { }
        Assert.True(good.Synapses.Validated);
    }
}
