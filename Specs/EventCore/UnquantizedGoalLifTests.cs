using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.GpuBridge;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>
/// GoalLif's unquantized comparison mode (trace_fraction_bits: 0; docs/models/goal_lif.md, "Grids"): hz and ej are not
/// rounded and the trace-coupled input is Σ_j w_ij·hz_j with float64 weights, sources ascending. The event engine equals
/// the naive reference's transcription of that; the dense engine refuses the mode; it differs from the gridded run.
/// </summary>
public class UnquantizedGoalLifTests
{
    private static NetworkSpec Network(int traceBits)
    {
        var b = new NetworkBuilder("unquantized") { Run = new RunOptions { DtMs = 1, DurationMs = 200, Seed = 5, Batch = 2 } };
        b.NeuronGroup("a", 30, new GoalLifParameters { TraceFractionBits = traceBits, VInit = Value.Uniform(-6, 1) });
        b.NeuronGroup("b", 10, new GoalLifParameters { TraceFractionBits = 20 });
        b.PoissonGroup("in", 8, 150);
        b.Synapses("in", "a", new Connectivity.FixedProbability(0.5), Value.Normal(0, 20, -60, 60));
        b.Synapses("a", "a", new Connectivity.FixedProbability(0.4, false), Value.Normal(0, 4, -16, 16));
        b.Synapses("b", "a", new Connectivity.AllToAll(), Value.Normal(0, 3, -12, 12));
        b.Synapses("a", "b", new Connectivity.FixedProbability(0.5), Value.Normal(0, 5, -20, 20));
        return b.Build();
    }

    [Fact]
    public void TheEventEngineEqualsTheReferenceTranscription()
    {
        var net = NetworkCompiler.Compile(Network(0));
        Assert.False(net.Population("a").ExactTraceInput);
        Assert.False(net.Population("b").ExactTraceInput);   // reads the unquantized hz of 'a'
        var (spikes, state) = ReferenceModelTests.RunEngine(net, net.DurationTicks);
        for (int b = 0; b < 2; b++)
        {
            var reference = NaiveReference.Run(net, net.DurationTicks, b);
            Assert.True(reference.Spikes.Count > 60, $"{reference.Spikes.Count} spikes");
            Assert.Equal(reference.Spikes, spikes[b]);
            foreach (var (key, values) in reference.FinalState) Assert.True(ReferenceModelTests.SameBits(values, state[b][key]), key);
        }
        // hz of 'a' leaves every grid (it is not rounded), and the gridded network differs.
        Assert.Contains(state[0]["a.hz"], h => h * Math.ScaleB(1.0, 40) != Math.Round(h * Math.ScaleB(1.0, 40)));
        var gridded = ReferenceModelTests.RunEngine(NetworkCompiler.Compile(Network(20)), net.DurationTicks);
        Assert.NotEqual(gridded.State[0]["a.v"], state[0]["a.v"]);
    }

    [Fact]
    public void TheDenseEngineRefusesIt()
    {
        var e = Assert.Throws<SpecException>(() => new DenseEngine(NetworkCompiler.Compile(Network(0))));
        Assert.Contains("unquantized", e.Message);
        Assert.Contains("populations[0]", e.Message);
    }
}
