using System.Collections;
using System.Reflection;
using Sim.EventCore.Description;
using Xunit;

namespace Sim.Specs.Description;

public class NetworkFileTests
{
    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sim.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sim.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Example(string name) => Path.Combine(RepoRoot(), "examples", name);

    /// <summary>Structural differences between two specs (records, arrays, lists), ignoring where they were read from.</summary>
    private static List<string> Differences(object? a, object? b, string path = "spec")
    {
        var diffs = new List<string>();
        if (a is null || b is null)
        {
            if (a is not null || b is not null) diffs.Add($"{path}: {a ?? "null"} vs {b ?? "null"}");
        }
        else if (a is IEnumerable ea and not string && b is IEnumerable eb)
        {
            var la = ea.Cast<object?>().ToList();
            var lb = eb.Cast<object?>().ToList();
            if (la.Count != lb.Count) diffs.Add($"{path}: {la.Count} vs {lb.Count} elements");
            else for (int i = 0; i < la.Count; i++) diffs.AddRange(Differences(la[i], lb[i], $"{path}[{i}]"));
        }
        else if (a.GetType() != b.GetType()) diffs.Add($"{path}: {a.GetType().Name} vs {b.GetType().Name}");
        else if (a is double x) { if (BitConverter.DoubleToInt64Bits(x) != BitConverter.DoubleToInt64Bits((double)b)) diffs.Add($"{path}: {x:R} vs {b:R}"); }
        else if (a is string || a.GetType().IsPrimitive || a.GetType().IsEnum) { if (!a.Equals(b)) diffs.Add($"{path}: {a} vs {b}"); }
        else if (a is Sim.EventCore.Models.NeuronModelDefinition) { if (!ReferenceEquals(a, b)) diffs.Add($"{path}: {a} vs {b}"); }   // registry singletons
        else
            foreach (var p in a.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
                if (p.GetIndexParameters().Length == 0 && p.Name is not (nameof(NetworkSpec.Locations) or nameof(NetworkSpec.SourceFile)))
                    diffs.AddRange(Differences(p.GetValue(a), p.GetValue(b), $"{path}.{p.Name}"));
        return diffs;
    }

    private static void AssertRoundTrip(NetworkSpec spec)
    {
        string text = NetworkFile.Write(spec);
        var back = NetworkFile.Parse(text, "written.yaml");
        Assert.Empty(Differences(spec, back));
        Assert.Equal(text, NetworkFile.Write(back));
    }

    [Theory]
    [InlineData("cuba.yaml")]
    [InlineData("goal_lif.yaml")]
    [InlineData("izhikevich.yaml")]
    [InlineData("theta.yaml")]
    [InlineData("lif_exp2.yaml")]
    public void Examples_round_trip(string example) => AssertRoundTrip(NetworkFile.Load(Example(example)));

    [Fact]
    public void Every_input_kind_connectivity_and_value_kind_round_trips()
    {
        var net = new NetworkBuilder("kitchen sink")
        {
            Run = new RunOptions { DtMs = 0.25, DurationMs = 50, Seed = ulong.MaxValue, Batch = 3, InstanceOffset = 2, Threads = 2, MaxRateHz = 500, GuardWindowMs = 20 },
        };
        var a = net.NeuronGroup("a", 4, new LifExpParameters
        {
            TauMemMs = Value.PerElement(10, 20, 30, 1e-3),
            ELeakMv = Value.Normal(-65, 2),
            VThresholdMv = Value.Normal(-50, 1, low: -52.5, high: -47.5),
            VResetMv = Value.Normal(-70, 1, high: -60),
            IExtMv = Value.Uniform(0.1, 1.0 / 3),
        });
        var b = net.NeuronGroup("b", 3, new LifDeltaParameters { VInitMv = -55.5, RefractoryMs = 0 });
        var g = net.NeuronGroup("g", 2, new GoalLifParameters { TraceFractionBits = 24, Bias = Value.Normal(-4, 0.5, low: -6) }, new EscapeNoise(0.5));
        var p = net.PoissonGroup("p", 3, Value.PerElement(5, 0, 7.5), startMs: 1, stopMs: 40);
        var q = net.PoissonGroup("q", 2, 12.5);
        var s = net.SpikeGeneratorGroup("s", 2, [0, 1, 1], [0.25, 1, 3.5]);
        var c = net.Clock("c", 3, 0.5, periodMs: 2);
        var c2 = net.Clock("c2", 2, 1);
        net.Synapses(p, a, new Connectivity.FixedProbability(0.5, Autapses: false), Value.Uniform(0.5, 1.5), 0.5, projectionName: "p_to_a", weightFractionBits: 12)
           .Synapses(q, b, new Connectivity.AllToAll(Autapses: false), Value.Normal(1, 0.1), Value.Uniform(0.25, 1))
           .Synapses(s, g, new Connectivity.OneToOne(), Value.PerElement(0.5, -0.25))
           .Synapses(a, a, new Connectivity.FixedInDegree(2, Autapses: false, Multapses: false), -0.75, Value.PerElement(0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2))
           .Synapses(c, b, new Connectivity.PairList([0, 1, 2], [2, 2, 0]), Value.PerElement(1, 2, 3), Value.PerElement(0.25, 0.5, 0.25))
           .Synapses(c2, g, new Connectivity.AllToAll(), 2)
           .Synapses(g, g, new Connectivity.AllToAll(), 0.125)
           .Current("a", Value.PerElement(1, 2, 3, 4), [0, 10, 20], [1, 0.5, 0])
           .Current("b", 0.5)
           .Monitor(new SpikeMonitorSpec([]))
           .Monitor(new SpikeMonitorSpec(["a", "g"]))
           .Monitor(new StateMonitorSpec("a", ["v_mv", "g_exc_mv"], [0, 3], 0.5))
           .Monitor(new RateMonitorSpec("g", 1));
        var spec = net.Build();
        AssertRoundTrip(spec);
        Assert.Contains("name: \"kitchen sink\"", NetworkFile.Write(spec));
    }

    [Fact]
    public void Cuba_example_loads_validates_and_records_locations()
    {
        string path = Example("cuba.yaml");
        var spec = NetworkFile.Load(path);
        Assert.Empty(spec.Validate());
        Assert.Equal(path, spec.SourceFile);
        Assert.Equal(new[] { ("exc", 3200), ("inh", 800) }, spec.Populations.Select(p => (p.Name, p.Size)));
        var lif = Assert.IsType<LifExpParameters>(spec.Populations[1].Parameters);
        Assert.Equal(new LifExpParameters
        {
            TauMemMs = 20, TauExcMs = 5, TauInhMs = 10, VThresholdMv = -50, VResetMv = -60, ELeakMv = -49, RefractoryMs = 5,
            VInitMv = Value.Uniform(-60, -50),
        }, lif);
        Assert.Equal(new[] { 1.62, -9, 1.62, -9 }, spec.Projections.Select(p => ((Value.Constant)p.Weight).V));
        Assert.All(spec.Projections, p =>
        {
            Assert.Equal(new Connectivity.FixedProbability(0.02, Autapses: true), p.Connectivity);
            Assert.Equal(new Value.Constant(0.1), p.DelayMs);
        });
        Assert.Equal((0.1, 1000.0, 1UL), (spec.Run.DtMs, spec.Run.DurationMs, spec.Run.Seed));
        Assert.Equal(3, spec.Monitors.Count);

        var lines = File.ReadAllLines(path);
        int tauLine = Array.FindIndex(lines, l => l.TrimStart().StartsWith("tau_mem_ms:", StringComparison.Ordinal)) + 1;
        Assert.Equal(new SourceLocation(path, tauLine, 7), spec.Locations["populations[0].params.tau_mem_ms"]);
        int inhLine = Array.FindIndex(lines, l => l.Contains("name: inh", StringComparison.Ordinal)) + 1;
        Assert.Equal(inhLine, spec.Locations["populations[1]"].Line);
        Assert.Equal(Array.FindIndex(lines, l => l.Contains("target: inh, connectivity", StringComparison.Ordinal) && l.Contains("-9", StringComparison.Ordinal)) + 1,
            spec.Locations["projections[3].weight"].Line);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(7UL)]
    public void Cuba_example_builds_the_same_network_as_the_built_in_default(ulong seed)
    {
        // `sim run examples/cuba.yaml` and `sim run` (BenchmarkNetworks.Cuba) must be one network: same synapses,
        // weights and delays for every seed (the projection order keys the random streams).
        var file = NetworkFile.Load(Example("cuba.yaml"));
        var fromFile = Sim.EventCore.Compilation.NetworkCompiler.Compile(file with { Run = file.Run with { Seed = seed } });
        var builtIn = Sim.EventCore.Compilation.NetworkCompiler.Compile(BenchmarkNetworks.Cuba(seed: seed));
        Assert.Equal(builtIn.Synapses.Target, fromFile.Synapses.Target);
        Assert.Equal(builtIn.Synapses.Q, fromFile.Synapses.Q);
        Assert.Equal(builtIn.Synapses.SegmentStart, fromFile.Synapses.SegmentStart);
        Assert.Equal(builtIn.Synapses.SegmentDelay, fromFile.Synapses.SegmentDelay);
    }

    [Fact]
    public void Goal_lif_example_defaults_its_delay_to_one_tick()
    {
        var spec = NetworkFile.Load(Example("goal_lif.yaml"));
        var proj = Assert.Single(spec.Projections);
        Assert.Equal(new Value.Constant(spec.Run.DtMs), proj.DelayMs);
        Assert.Equal(Value.Normal(0, 22), proj.Weight);
        Assert.Equal(new EscapeNoise(1), spec.Populations[0].Noise);
        Assert.Equal(new ClockInput("clock", 5, 29), Assert.Single(spec.Inputs));
    }

    // A valid file; each bad-input test changes one line of it. Line numbers are found from the text, not hard-coded.
    private const string Good = """
        name: small
        run:
          dt_ms: 0.1
          duration_ms: 100
        populations:
          - name: exc
            size: 10
            model: lif_exp
            params:
              tau_mem_ms: 20
              v_init_mv: {uniform: [-60, -50]}
        inputs:
          - name: drive
            kind: poisson
            size: 5
            rate_hz: 10
        projections:
          - source: drive
            target: exc
            connectivity: {rule: pairs, pre: [0, 1, 4], post: [0, 1, 9]}
            weight: 0.5
            delay_ms: 0.1
          - source: exc
            target: exc
            connectivity: {rule: fixed_probability, p: 0.1}
            weight: 0.2
        monitors:
          - kind: spikes
            populations: [exc]
        """;

    private static int LineOf(string text, string marker)
    {
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0 && text.IndexOf(marker, at + 1, StringComparison.Ordinal) < 0, $"marker '{marker}' must occur once");
        return text[..at].Count(ch => ch == '\n') + 1;
    }

    /// <summary>Replaces one line of <see cref="Good"/>, expects an error on <paramref name="field"/> at the line of <paramref name="lineMarker"/>.</summary>
    private static SpecException AssertError(string find, string replace, string field, string? lineMarker = null, string? says = null)
    {
        Assert.Equal(1, Good.Split(find).Length - 1);
        string yaml = Good.Replace(find, replace);
        int line = LineOf(yaml, lineMarker ?? replace);
        var ex = Assert.Throws<SpecException>(() => NetworkFile.Parse(yaml, "bad.yaml"));
        var error = Assert.Single(ex.Errors, e => e.Field == field);
        Assert.Equal(("bad.yaml", line), (error.Location?.File, error.Location?.Line));
        Assert.Contains($"bad.yaml:{line}:", ex.Message);
        Assert.Contains(field, ex.Message);
        if (says is not null) Assert.Contains(says, error.Message);
        return ex;
    }

    [Fact]
    public void The_good_file_is_valid()
    {
        var spec = NetworkFile.Parse(Good, "good.yaml");
        Assert.Empty(Differences(new Connectivity.PairList([0, 1, 4], [0, 1, 9]), spec.Projections[0].Connectivity));
        Assert.Equal(new Value.Constant(0.1), spec.Projections[1].DelayMs);
        Assert.Equal(new Connectivity.FixedProbability(0.1, Autapses: true), spec.Projections[1].Connectivity);
    }

    [Fact]
    public void Yaml_syntax_error_is_located()
    {
        var ex = AssertError("    weight: 0.2", "    weight: 0.2: 3", "(syntax)", says: "YAML syntax error");
        Assert.Single(ex.Errors);
        ex = Assert.Throws<SpecException>(() => NetworkFile.Parse(Good.Replace("    weight: 0.2", "    weight: [0.2"), "bad.yaml"));
        Assert.Equal("(syntax)", Assert.Single(ex.Errors).Field);
        Assert.Contains("bad.yaml:", ex.Message);
    }

    [Fact]
    public void Unknown_key_suggests_the_close_one()
        => AssertError("    size: 10", "    sise: 10", "populations[0].sise", says: "did you mean 'size'?");

    [Fact]
    public void Text_where_a_number_is_expected()
        => AssertError("      tau_mem_ms: 20", "      tau_mem_ms: fast", "populations[0].params.tau_mem_ms", says: "expected a number, got 'fast'");

    [Fact]
    public void Nan_is_rejected()
        => AssertError("    rate_hz: 10", "    rate_hz: .nan", "inputs[0].rate_hz", says: "finite");

    [Fact]
    public void Nonpositive_time_constant_is_located_by_the_validator()
        => AssertError("      tau_mem_ms: 20", "      tau_mem_ms: -5", "populations[0].params.tau_mem_ms", says: "must be > 0");

    [Fact]
    public void Delay_below_one_tick()
        => AssertError("    delay_ms: 0.1", "    delay_ms: 0.05", "projections[0].delay_ms", says: "below one tick");

    [Fact]
    public void Pair_index_out_of_range()
        => AssertError("post: [0, 1, 9]", "post: [0, 1, 10]", "projections[0].connectivity.post", lineMarker: "rule: pairs", says: "index 10");

    [Fact]
    public void Unknown_model()
        => AssertError("    model: lif_exp", "    model: lif_expo", "populations[0].model", says: "did you mean 'lif_exp'?");

    [Fact]
    public void Unknown_projection_source()
        => AssertError("  - source: drive", "  - source: driv", "projections[0].source", says: "'driv' is neither a population nor an input");

    [Fact]
    public void Missing_required_key_points_at_its_mapping()
        => AssertError("    size: 10\n", "", "populations[0].size", lineMarker: "  - name: exc", says: "missing required key 'size'");

    [Fact]
    public void Every_reading_error_is_listed_not_only_the_first()
    {
        string yaml = Good.Replace("    size: 10", "    size: 2.5").Replace("    rate_hz: 10", "    rate_hz: {normall: [1, 2]}").Replace("p: 0.1", "p: \"0.1\"");
        var ex = Assert.Throws<SpecException>(() => NetworkFile.Parse(yaml, "bad.yaml"));
        Assert.Equal(
            new[] { ("populations[0].size", LineOf(yaml, "size: 2.5")), ("inputs[0].rate_hz.normall", LineOf(yaml, "normall")), ("projections[1].connectivity.p", LineOf(yaml, "\"0.1\"")) },
            ex.Errors.Select(e => (e.Field, e.Location!.Line)));
        Assert.Contains("did you mean 'normal'?", ex.Errors[1].Message);
        Assert.Contains("quoted", ex.Errors[2].Message);
    }

    [Theory]
    [InlineData("    size: 10", "    size: nan", "populations[0].size", "must be a finite number")]
    [InlineData("    size: 10", "    size: -3.5", "populations[0].size", "expected an integer")]
    [InlineData("    size: 10", "    size: [1]", "populations[0].size", "expected a number, got a list")]
    [InlineData("  - name: exc", "  - name: {a: 1}", "populations[0].name", "expected text, got a mapping")]
    [InlineData("    model: lif_exp", "    model: \"\"", "populations[0].model", "unknown model ''")]
    [InlineData("    kind: poisson", "    kind: poison", "inputs[0].kind", "did you mean 'poisson'?")]
    [InlineData("{rule: fixed_probability, p: 0.1}", "{rule: fixed_probability, p: 0.1, autapse: false}", "projections[1].connectivity.autapse", "did you mean 'autapses'?")]
    [InlineData("{uniform: [-60, -50]}", "{uniform: [-60]}", "populations[0].params.v_init_mv.uniform", "uniform needs [low, high], got 1 value")]
    [InlineData("    rate_hz: 10", "    rate_hz: [1, x]", "inputs[0].rate_hz[1]", "expected a number, got 'x'")]
    public void Wrong_types_and_forms_are_named(string find, string replace, string field, string says)
        => AssertError(find, replace, field, says: says);

    [Fact]
    public void Duplicate_key_is_an_error()
    {
        string yaml = Good.Replace("    size: 10", "    size: 10\n    size: 11");
        var ex = Assert.Throws<SpecException>(() => NetworkFile.Parse(yaml, "bad.yaml"));
        Assert.Equal(LineOf(yaml, "size: 11"), Assert.Single(ex.Errors).Location?.Line);
        Assert.Contains("Duplicate key", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Clock_channels_locate_the_input_size()
    {
        string yaml = Good.Replace("    kind: poisson\n    size: 5\n    rate_hz: 10", "    kind: clock\n    channels: 0\n    span_ms: 1");
        var ex = Assert.Throws<SpecException>(() => NetworkFile.Parse(yaml, "bad.yaml"));
        Assert.Contains(ex.Errors, e => e.Field == "inputs[0].size" && e.Location?.Line == LineOf(yaml, "channels: 0"));
    }

    [Fact]
    public void Suggestions_need_an_edit_distance_of_at_most_two()
    {
        Assert.Equal(" (did you mean 'tau_mem_ms'?)", NetworkFile.Suggest("tau_mem_m", ["tau_mem_ms", "tau_exc_ms"]));
        Assert.Equal("", NetworkFile.Suggest("membrane", ["tau_mem_ms", "tau_exc_ms"]));
        Assert.Equal(" (did you mean 'delay_ms'?)", NetworkFile.Suggest("delay", ["weight", "delay_ms"]));
        Assert.Equal("", NetworkFile.Suggest("tau", ["tau_mem_ms", "tau_exc_ms"]));
        Assert.Equal(3, NetworkFile.Levenshtein("kitten", "sitting"));
    }
}
