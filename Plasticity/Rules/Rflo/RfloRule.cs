using Sim.EventCore.Compilation;
using Sim.EventCore.Models;
using Sim.EventCore.Plasticity;

namespace Sim.Plasticity;

/// <summary>One RFLO learner (one per instance): its fixed feedback B, initial readout, targets and learning rates.</summary>
/// <param name="Feedback">B, N × N_out row-major (<see cref="RfloCell.RandomFeedback"/>: N(0, 1)/√N_out, model notes §3.4).</param>
/// <param name="InitialReadout">W_out at the start, N_out × N row-major.</param>
/// <param name="Target">Row t for tick t of a trial: y*[t] (N_out values).</param>
/// <param name="EtaRec">η_rec (the model notes' η₂).</param>
/// <param name="EtaOut">η_out (the model notes' η₁).</param>
public sealed record RfloCell(double[] Feedback, double[] InitialReadout, double[][] Target, double EtaRec, double EtaOut)
{
    /// <summary>B_io ~ N(0, 1)/√N_out from the counter-based stream (seed, <see cref="PlasticityRandom.RfloFeedbackPurpose"/>, cell).</summary>
    public static double[] RandomFeedback(ulong seed, ulong cell, int n, int outputs)
    {
        ulong key = PlasticityRandom.Key(seed, PlasticityRandom.RfloFeedbackPurpose, cell);
        var b = new double[n * outputs];
        double s = 1.0 / Math.Sqrt(outputs);
        for (int k = 0; k < b.Length; k++) b[k] = PlasticityRandom.Normal(key, k) * s;
        return b;
    }

    /// <summary>W_out,oj ~ N(0, 1)/√N from (seed, <see cref="PlasticityRandom.RfloReadoutPurpose"/>, cell).</summary>
    public static double[] RandomReadout(ulong seed, ulong cell, int n, int outputs)
    {
        ulong key = PlasticityRandom.Key(seed, PlasticityRandom.RfloReadoutPurpose, cell);
        var w = new double[n * outputs];
        double s = 1.0 / Math.Sqrt(n);
        for (int k = 0; k < w.Length; k++) w[k] = PlasticityRandom.Normal(key, k) * s;
        return w;
    }
}

/// <summary>
/// RFLO (Murray 2019, eLife 8:e43299; docs/rules/rflo.md) plugged into an engine (<see cref="IPlasticityRule"/>). It makes
/// the trace-coupled projection of a <c>rate_tanh</c> population onto itself plastic (any connectivity, autapses
/// allowed; synapse k = (i ← j)) and keeps the linear readout y = W_out·h of that population: every instance gets its own
/// learner (<see cref="RfloInstance"/>, <see cref="RfloUpdate"/>). In the Plasticity phase of every tick a learner reads
/// h and the model's pseudo-derivative φ'(u) = 1 − tanh² u, updates the traces p and accumulates the updates against
/// its target row of that tick; at the end of the trial (<c>EndTrial</c>) it applies their means over the trial's
/// ticks and writes W_rec (<see cref="IPlasticityContext.SetWeights"/>, rounded onto the grid, checked against the
/// exactness bound). Call <c>ResetState</c> at the start of each trial (it resets p and takes h[−1] = the initial h).
/// </summary>
public sealed class RfloRule : IPlasticityRule
{
    private readonly Func<int, RfloCell> _cellOf;
    private readonly List<RfloInstance> _instances = [];
    private readonly string _population;
    private readonly int _pop, _offset, _n;
    private readonly double[] _leak;
    private PlasticProjection? _projection;

    /// <summary>Attaches the rule to <paramref name="population"/> with one learner per instance.</summary>
    public RfloRule(CompiledNetwork network, string population, Func<int, RfloCell> cellOf)
    {
        ArgumentNullException.ThrowIfNull(cellOf);
        var p = network.Population(population);
        if (p.Model != RateTanhModel.Instance) throw new ArgumentException($"population '{population}' is {p.Model.Name}; RFLO needs rate_tanh", nameof(population));
        _population = population;
        _pop = p.Index; _offset = p.Offset; _n = p.Size;
        _leak = (double[])((RateTanhConstants)p.Constants).Leak.Clone();
        _cellOf = cellOf;
    }

    /// <summary>The learners, one per instance, in the order the engine created them.</summary>
    public IReadOnlyList<RfloInstance> Instances => _instances;

    /// <inheritdoc/>
    public void Bind(PlasticityBinding binding)
    {
        _projection = binding.RecurrentTraceProjection(_population);
    }

    /// <inheritdoc/>
    public IRuleInstance CreateInstance(IPlasticityContext context)
    {
        var cell = _cellOf(context.Instance);
        var proj = _projection!;
        int count = proj.Count;
        var pre = new int[count];
        var post = new int[count];
        for (int k = 0; k < count; k++) { pre[k] = proj.Pre[k] - _offset; post[k] = proj.Post[k] - _offset; }
        var w0 = new double[count];
        context.GetWeights(proj, w0);
        if (cell.Feedback.Length % _n != 0 || cell.Feedback.Length == 0) throw new ArgumentException($"B must be {_n} × N_out");
        int outputs = cell.Feedback.Length / _n;
        foreach (var row in cell.Target)
            if (row.Length != outputs) throw new ArgumentException($"each target row needs {outputs} values");
        var core = new RfloUpdate(_n, pre, post, _leak, cell.Feedback, cell.InitialReadout, w0, cell.EtaRec, cell.EtaOut);
        core.StartTrial(context.Variable(_pop, RateTanhModel.H));
        var made = new RfloInstance(this, core, cell.Target);
        _instances.Add(made);
        return made;
    }

    internal int Population => _pop;
    internal PlasticProjection Projection => _projection!;
}

/// <summary>The RFLO learner of one instance (<see cref="RfloRule"/>).</summary>
public sealed class RfloInstance : ICheckpointableRuleInstance
{
    private readonly RfloRule _rule;
    private readonly double[] _psi;

    internal RfloInstance(RfloRule rule, RfloUpdate core, double[][] target)
    {
        _rule = rule;
        Core = core;
        Target = target;
        _psi = new double[core.N];
    }

    /// <summary>The engine-independent update (traces, readout, sums, weights).</summary>
    public RfloUpdate Core { get; }

    /// <summary>The targets of a trial, row t for tick t.</summary>
    public double[][] Target { get; set; }

    /// <summary>The loss of each finished trial, in order (<see cref="RfloUpdate.LastTrialLoss"/>).</summary>
    public List<double> Losses { get; } = [];

    /// <inheritdoc/>
    public void OnStep(IPlasticityContext context)
    {
        long tick = context.Tick;
        if (tick >= Target.Length) throw new InvalidOperationException($"tick {tick} is beyond the {Target.Length} ticks of the target; reset the trial");
        context.PseudoDerivative(_rule.Population, _psi);
        Core.Step(context.Variable(_rule.Population, RateTanhModel.H), _psi, Target[tick]);
    }

    /// <inheritdoc/>
    public void OnTrialStart(IPlasticityContext context) => Core.StartTrial(context.Variable(_rule.Population, RateTanhModel.H));

    /// <inheritdoc/>
    public void OnTrialEnd(IPlasticityContext context)
    {
        bool had = Core.Ticks > 0;
        if (Core.EndTrial()) context.SetWeights(_rule.Projection, Core.Recurrent);
        if (had) Losses.Add(Core.LastTrialLoss);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double[]> Capture()
    {
        var s = Core.Capture();
        s["losses"] = [.. Losses];
        return s;
    }

    /// <inheritdoc/>
    public void Restore(IReadOnlyDictionary<string, double[]> state)
    {
        Core.Restore(state);
        Losses.Clear();
        if (state.TryGetValue("losses", out var l)) Losses.AddRange(l);
    }
}
