using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.Experiments;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>
/// The one engine factory: what it lists (and <c>sim engines</c> prints) matches what the engines do; a network an
/// engine cannot run is refused by field and model before anything runs; unknown names are clear errors.
/// </summary>
public class EngineFactoryTests
{
    [Fact]
    public void EveryRegisteredModelIsListedWithTheEnginesThatRunIt()
    {
        foreach (var m in ModelRegistry.All)
        {
            Assert.Contains(m.Name, EngineFactory.Describe("event").Models);
            Assert.Contains(m.Name, EngineFactory.Describe("dense").Models);
            Assert.Equal(m.SupportsPrecise, EngineFactory.Describe("precise").Models.Contains(m.Name));
        }
        var listing = Sim.Specs.Cli.CliHarness.Sim("engines");
        Assert.Equal(0, listing.Code);
        foreach (var e in EngineFactory.Engines) Assert.Contains(e.Name, listing.Out);
        foreach (var m in ModelRegistry.All) Assert.Contains(m.Name, listing.Out);
        Assert.Equal(2, Sim.Specs.Cli.CliHarness.Sim("engines", "--bogus").Code);
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
