namespace Sim.EventCore.Description;

/// <summary>
/// Builds a <see cref="NetworkSpec"/> in code, in the style of Brian2/NEST scripts:
/// <code>
/// var net = new NetworkBuilder("cuba") { Run = new RunOptions { DtMs = 0.1, DurationMs = 1000 } };
/// var exc = net.NeuronGroup("exc", 3200, lif);
/// var inh = net.NeuronGroup("inh", 800, lif);
/// net.Synapses(exc, exc, new Connectivity.FixedProbability(0.02), weight: 1.62);
/// NetworkSpec spec = net.Build();   // validated
/// </code>
/// </summary>
public sealed class NetworkBuilder(string name = "network")
{
    private readonly List<PopulationSpec> _populations = [];
    private readonly List<InputSpec> _inputs = [];
    private readonly List<(ProjectionSpec Spec, bool DefaultDelay)> _projections = [];
    private readonly List<CurrentSpec> _currents = [];
    private readonly List<MonitorSpec> _monitors = [];

    /// <summary>Run options.</summary>
    public RunOptions Run { get; set; } = new();

    /// <summary>Adds a population; returns its name for use in <see cref="Synapses"/>.</summary>
    public string NeuronGroup(string groupName, int size, NeuronParameters parameters, EscapeNoise? noise = null)
    {
        _populations.Add(new PopulationSpec(groupName, size, parameters) { Noise = noise });
        return groupName;
    }

    /// <summary>Adds Poisson sources (Brian2 <c>PoissonGroup</c>).</summary>
    public string PoissonGroup(string groupName, int size, Value rateHz, double startMs = 0, double? stopMs = null)
    {
        _inputs.Add(new PoissonInput(groupName, size, rateHz) { StartMs = startMs, StopMs = stopMs });
        return groupName;
    }

    /// <summary>Adds explicit spike times (Brian2 <c>SpikeGeneratorGroup</c>).</summary>
    public string SpikeGeneratorGroup(string groupName, int size, int[] indices, double[] timesMs)
    {
        _inputs.Add(new SpikeTimesInput(groupName, size, timesMs, indices));
        return groupName;
    }

    /// <summary>Adds a one-hot clock input.</summary>
    public string Clock(string groupName, int channels, double spanMs, double? periodMs = null)
    {
        _inputs.Add(new ClockInput(groupName, channels, spanMs, periodMs));
        return groupName;
    }

    /// <summary>Connects <paramref name="source"/> to <paramref name="target"/>; the delay defaults to one tick (dt at <see cref="Build"/> time).</summary>
    public NetworkBuilder Synapses(string source, string target, Connectivity connectivity, Value weight, Value? delayMs = null,
        string? projectionName = null, int? weightFractionBits = null)
    {
        _projections.Add((new ProjectionSpec(source, target, connectivity, weight, delayMs ?? 0.0)
        { Name = projectionName, WeightFractionBits = weightFractionBits }, delayMs is null));
        return this;
    }

    /// <summary>Injects a current into a population (see <see cref="CurrentSpec"/>).</summary>
    public NetworkBuilder Current(string target, Value amplitude, double[]? timesMs = null, double[]? scales = null)
    {
        _currents.Add(new CurrentSpec(target, amplitude) { TimesMs = timesMs, Scales = scales });
        return this;
    }

    /// <summary>Adds a monitor.</summary>
    public NetworkBuilder Monitor(MonitorSpec monitor)
    {
        _monitors.Add(monitor);
        return this;
    }

    /// <summary>The description, validated (throws <see cref="SpecException"/> listing every problem).</summary>
    public NetworkSpec Build() => BuildUnchecked().EnsureValid();

    /// <summary>The description without validation (for tests of validation itself).</summary>
    public NetworkSpec BuildUnchecked() => new()
    {
        Name = name,
        Populations = [.. _populations],
        Inputs = [.. _inputs],
        Projections = [.. _projections.Select(p => p.DefaultDelay ? p.Spec with { DelayMs = Run.DtMs } : p.Spec)],
        Currents = [.. _currents],
        Monitors = [.. _monitors],
        Run = Run,
    };
}
