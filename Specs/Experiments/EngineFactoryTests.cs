using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.Experiments;
using Sim.Specs.EventCore;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>
/// The one engine factory: what it lists (and <c>sim engines</c> prints) matches what the engines do; a network an
/// engine cannot run is refused by field and model before anything runs; unknown names are clear errors.
/// </summary>
public class EngineFactoryTests
{
    /// <summary>
    /// The listing is what the engines do: for every registered model, each engine that lists it builds and runs a
    /// network of it (grid engines: with a tick I/O hook and a checkpoint round trip, as their flags say), and an engine
    /// that does not list it refuses it.
    /// </summary>
    [Fact]
    public void EveryEngineRunsTheModelsItListsAndRefusesTheOthers()
    {
        var rng = new Random(3);
        foreach (var m in ModelRegistry.All)
        {
            var b = new NetworkBuilder("one") { Run = new RunOptions { DtMs = 0.1, DurationMs = 5, Seed = 2 } };
            b.NeuronGroup("p", 5, m.SampleParameters(rng, 0.1, heterogeneous: false));
            b.PoissonGroup("in", 5, 200);
            b.Synapses("in", "p", new Connectivity.OneToOne(), m.Hints.WeightScale);
            var spec = b.Build();
            foreach (var e in EngineFactory.Engines.Where(e => e.Name != "dense-cuda"))
            {
                bool listed = e.Models.Contains(m.Name);
                if (!e.Grid)
                {
                    if (listed) EngineFactory.CreatePrecise(EngineFactory.Compile(e.Name, spec)).RunMs(5);
                    else Assert.Throws<SpecException>(() => EngineFactory.Compile(e.Name, spec));
                    continue;
                }
                Assert.True(listed, $"{e.Name} should run every registered model ({m.Name})");
                Assert.True(e.TickIO && e.Checkpoints && e.Plasticity && e.Batch);
                var net = EngineFactory.Compile(e.Name, spec);
                using var engine = EngineFactory.CreateGrid(e.Name, net);
                engine.AddTickIO(new Hold());
                engine.Run(20);
                var ck = engine.SaveCheckpoint();
                engine.Run(10);
                var v = engine.GetVariable(0, "p", m.ReportedVariableNames[0]);
                using var resumed = EngineFactory.CreateGrid(e.Name, net);
                resumed.AddTickIO(new Hold());
                resumed.Restore(ck);
                resumed.Run(10);
                Assert.True(ReferenceModelTests.SameBits(v, resumed.GetVariable(0, "p", m.ReportedVariableNames[0])), $"{e.Name}: {m.Name} resumed differently");
            }
        }
        var listing = Sim.Specs.Cli.CliHarness.Sim("engines");
        Assert.Equal(0, listing.Code);
        foreach (var e in EngineFactory.Engines) Assert.Contains(e.Name, listing.Out);
        foreach (var m in ModelRegistry.All) Assert.Contains(m.Name, listing.Out);
        foreach (var r in Sim.Plasticity.RuleRegistry.All)
        {
            Assert.Contains(r.DocPage, listing.Out);
            Assert.True(File.Exists(Path.Combine(Sim.Specs.Description.NetworkFileTests.RepoRoot(), r.DocPage)), $"{r.Name}: {r.DocPage} is missing");
        }
        Assert.Equal(2, Sim.Specs.Cli.CliHarness.Sim("engines", "--bogus").Code);
    }

    private sealed class Hold : ITickIO
    {
        public IReadOnlyList<string> InputPopulations { get; } = ["p"];
        public void BeforeTick(int instance, long tick, ITickInputs inputs) { if (tick == 0) inputs.Current(0).Fill(0.1); }
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state) { }
    }

    [Fact]
    public void TheFactoryRefusesWhatAnEngineCannotRunNamingTheFieldAndModel()
    {
        var coba = BenchmarkNetworks.Coba(10, 1, scale: 0.05);
        var e = Assert.Throws<SpecException>(() => EngineFactory.Compile("precise", coba));
        Assert.Contains(e.Errors, x => x.Field == "populations[0].model" && x.Message.Contains("lif_cond_exp", StringComparison.Ordinal));
        var guarded = BenchmarkNetworks.CubaPs(10, 1, scale: 0.05) with { Run = BenchmarkNetworks.CubaPs(10).Run with { MaxRateHz = 100 } };
        Assert.Contains(Assert.Throws<SpecException>(() => EngineFactory.Compile("precise", guarded)).Errors, x => x.Field == "run.max_rate_hz");
        Assert.False(EngineFactory.Describe("precise").RunGuards);
        // The precise engine needs the exact delays, which Compile keeps for it; the grid engines do not.
        var cubaPs = EngineFactory.Compile("precise", BenchmarkNetworks.CubaPs(10, 1, scale: 0.05));
        EngineFactory.CreatePrecise(cubaPs).RunMs(5);
        Assert.Throws<ArgumentException>(() => EngineFactory.CreateGrid("precise", cubaPs));
        Assert.Throws<ArgumentException>(() => EngineFactory.Describe("gpu"));
        Assert.Throws<ArgumentException>(() => EngineFactory.GridFactory("nosuch"));
        // The grid engines run it; the dense engine refuses at construction what it cannot reproduce exactly.
        var net = EngineFactory.Compile("event", coba);
        using (var ev = EngineFactory.CreateGrid("event", net)) ev.Run(10);
        var b = new NetworkBuilder("unquantized");
        b.NeuronGroup("rec", 4, new GoalLifParameters { TraceFractionBits = 0 });
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: false), 0.1);
        var plain = EngineFactory.Compile("event", b.Build());
        Assert.Throws<SpecException>(() => EngineFactory.CreateGrid("dense", plain));
        using (var ev = EngineFactory.CreateGrid("event", plain)) Assert.IsType<EventEngine>(ev);
    }
}
