using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Plasticity;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>Rules attached from a network file (<c>plasticity:</c> on a projection, docs/network-file.md).</summary>
public class PlasticityFileTests
{
    private static string Example(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sim.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, "examples", name);
    }

    /// <summary>examples/cuba_stdp.yaml attaches STDP to exc→exc, the rule runs and changes the weights; the file writes back to the same text.</summary>
    [Fact]
    public void TheCubaStdpExampleAttachesStdpAndLearns()
    {
        var spec = NetworkFile.Load(Example("cuba_stdp.yaml"));
        var rules = RuleFiles.Rules(spec);
        var stdp = Assert.IsType<StdpRule>(Assert.Single(rules));
        Assert.Equal(new StdpParameters { Lambda = 0.01, Alpha = 1.05, WMax = 3.24 }, stdp.Parameters);
        string text = NetworkFile.Write(spec);
        Assert.Equal(text, NetworkFile.Write(NetworkFile.Parse(text, "written.yaml")));
        var net = NetworkCompiler.Compile(spec with { Run = spec.Run with { DurationMs = 30 }, Monitors = [] });
        using var engine = new EventEngine(net);
        engine.AddPlasticityRule(RuleFiles.Rules(spec)[0]);
        engine.ResetState();
        engine.Run(300);
        engine.EndTrial();
        var w = engine.GetWeights(0, "exc->exc");
        Assert.Contains(w, x => x != 1.62);
        Assert.All(w, x => Assert.InRange(x, 0, 3.24));
    }

    /// <summary>Every bad rule name, key and value is reported at once with its file, line and field.</summary>
    [Fact]
    public void BadEntriesAreReportedWithFileLineAndField()
    {
        const string Text = """
            name: bad
            populations:
              - {name: a, size: 4, model: lif_exp}
            projections:
              - source: a
                target: a
                connectivity: all_to_all
                weight: 1
                plasticity: {rule: stdp, tau_plus_ms: -3, pairng: nearest, lambda: fast}
              - source: a
                target: a
                connectivity: all_to_all
                weight: 1
                plasticity: {rule: stpd}
              - source: a
                target: a
                connectivity: all_to_all
                weight: 1
                plasticity:
                  rule: tsodyks_markram
                  u: 2
            """;
        var spec = NetworkFile.Parse(Text, "bad.yaml");
        var e = Assert.Throws<SpecException>(() => RuleFiles.Rules(spec));
        var errors = e.Errors.ToDictionary(x => x.Field);
        Assert.Equal(9, errors["projections[0].plasticity.pairng"].Location!.Line);
        Assert.Contains("unknown key 'pairng'", errors["projections[0].plasticity.pairng"].Message);
        Assert.Contains("expected a number, got 'fast'", errors["projections[0].plasticity.lambda"].Message);
        Assert.Contains("tau_plus_ms", errors["projections[0].plasticity.tau_plus_ms"].Message + errors["projections[0].plasticity.tau_plus_ms"].Field);
        Assert.Contains("unknown plasticity rule 'stpd'", errors["projections[1].plasticity.rule"].Message);
        Assert.Equal(14, errors["projections[1].plasticity.rule"].Location!.Line);
        Assert.Contains("must be in (0, 1]", errors["projections[2].plasticity.u"].Message);
        Assert.Equal(21, errors["projections[2].plasticity.u"].Location!.Line);
        Assert.All(e.Errors, x => Assert.Equal("bad.yaml", x.Location!.File));
    }
}
