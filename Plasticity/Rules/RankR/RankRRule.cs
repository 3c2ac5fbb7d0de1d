using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Plasticity;
using Sim.EventCore.Numerics;

namespace Sim.Plasticity;

/// <summary>One learner of the rank-R rule: its feedback, τ⋆, optimizer, targets and update mode (one per instance).</summary>
/// <param name="Feedback">The error feedback (neuron-space D or output-space B⁺); owned by this learner (it has scratch state).</param>
/// <param name="TauStarMs">τ⋆ (ms).</param>
/// <param name="Optimizer">How the update is applied; owned by this learner (Adam has per-element state).</param>
/// <param name="Target">Row t for tick t: ŝ*[t] (neuron space) or Y*[t] (output space, <see cref="OutputSpaceFeedback.Targets"/>).</param>
public sealed record RankRCell(ErrorFeedback Feedback, double TauStarMs, IOptimizer Optimizer, double[][] Target)
{
    /// <summary>Online (every tick, the paper's protocol) or per-trial updates.</summary>
    public UpdateMode Mode { get; init; } = UpdateMode.Online;

    /// <summary>
    /// True (store and recall, the GOAL rule): g_i = e_i·ψ(v_i). False: g_i = e_i, no pseudo-derivative (the authors'
    /// behavioural-cloning code, docs/tasks/button_food.md).
    /// </summary>
    public bool UsePseudoDerivative { get; init; } = true;

    /// <summary>
    /// What the rule filters into ŝ: the spikes z (default), or the neurons' own prediction Θ(v − thr) read from the
    /// membrane, which differs from z only where a spike clamp (teacher forcing) overrode the threshold (and under escape
    /// noise, where it is the deterministic part). Cloning with clamped neurons compares their prediction, not the
    /// clamped target, with the target (docs/tasks/button_food.md).
    /// </summary>
    public RankRPrediction Prediction { get; init; } = RankRPrediction.Spikes;
}

/// <summary>What the rank-R rule compares with the target (<see cref="RankRCell.Prediction"/>).</summary>
public enum RankRPrediction
{
    /// <summary>The spikes z of the tick.</summary>
    Spikes,
    /// <summary>Θ(v − thr): the neuron's own threshold decision, before any clamp.</summary>
    Membrane,
}

/// <summary>
/// The rank-R rule plugged into an engine (<see cref="IPlasticityRule"/>). It makes the population's trace-coupled
/// projection onto itself plastic (the model's W_rec: all-to-all without autapses, with an explicit weight grid, e.g.
/// F = 20, so that the grid does not depend on the initial weights), and every instance gets its own learner
/// (<see cref="RankRInstance"/>, with its own <see cref="RankRCell"/>: a batch of instances can learn different cells at
/// once, e.g. a sweep over R as the dense engine's batch dimension). In the Plasticity phase of every tick a learner
/// reads v, z and ej of the population and the model's pseudo-derivative, runs <see cref="RankRUpdate.Update"/> against
/// its target row of that tick and writes W row by row (<see cref="IPlasticityContext.SetIncomingWeights"/>, rounded to the
/// grid and checked against the exactness bound); the weights act from the next tick. The tick within a trial is the
/// engine tick; call <see cref="ISimulationEngine.ResetState"/> at the start of each epoch (it resets ŝ) and
/// <see cref="ISimulationEngine.EndTrial"/> at its end (the per-trial update point).
/// </summary>
public sealed class RankRRule : IPlasticityRule
{
    private readonly Func<int, RankRCell> _cellOf;
    private readonly List<RankRInstance> _instances = [];
    private readonly string _population;
    private readonly int _pop, _offset, _n;
    private readonly int _gridBits;
    private readonly double[] _threshold;
    private PlasticProjection? _projection;

    /// <summary>Attaches the rule to population <paramref name="population"/> with one cell per instance.</summary>
    /// <param name="network">The network.</param>
    /// <param name="population">A GoalLif population with a trace projection onto itself.</param>
    /// <param name="cellOf">The cell of instance k (a new feedback and optimizer object for each).</param>
    public RankRRule(CompiledNetwork network, string population, Func<int, RankRCell> cellOf)
    {
        ArgumentNullException.ThrowIfNull(cellOf);
        var p = network.Population(population);
        if (p.Model != GoalLifModel.Instance && p.Model != GoalLifEulerModel.Instance) throw new ArgumentException($"population '{population}' is {p.Model.Name}; the rank-R rule needs goal_lif or goal_lif_euler", nameof(population));
        _population = population;
        _pop = p.Index; _offset = p.Offset; _n = p.Size;
        _gridBits = p.TraceWeightFractionBits;
        _threshold = ((GoalLifConstants)p.Constants).Threshold;
        var tr = network.TraceSynapses;
        for (int i = 0; i < _n; i++)
        {
            int start = tr.RowStart[_offset + i], len = tr.RowStart[_offset + i + 1] - start;
            bool ok = len == _n - 1;
            for (int k = 0; ok && k < len; k++) ok = tr.Source[start + k] == _offset + (k < i ? k : k + 1);
            if (!ok)
                throw new ArgumentException($"population '{population}' needs exactly one trace projection onto itself, all-to-all without autapses (neuron {i} has {len} trace inputs)", nameof(population));
        }
        _cellOf = cellOf;
    }

    /// <summary>
    /// Attaches the rule with one feedback, τ⋆ and optimizer for a single instance (these objects hold state, so an
    /// engine with several instances needs the per-instance constructor).
    /// </summary>
    public RankRRule(CompiledNetwork network, string population, ErrorFeedback feedback, double tauStarMs, IOptimizer optimizer, double[][]? target = null)
        : this(network, population, SingleCell(feedback, tauStarMs, optimizer, target)) { }

    /// <summary>As the single-instance constructor, with a neuron-space D (N×N, row-major).</summary>
    public RankRRule(CompiledNetwork network, string population, double[] feedback, double tauStarMs, IOptimizer optimizer)
        : this(network, population, new NeuronSpaceFeedback(feedback, network.Population(population).Size), tauStarMs, optimizer) { }

    private static Func<int, RankRCell> SingleCell(ErrorFeedback feedback, double tauStarMs, IOptimizer optimizer, double[][]? target)
    {
        bool used = false;
        return _ =>
        {
            if (used) throw new InvalidOperationException("this rank-R rule was made with one feedback and optimizer object, which cannot serve several instances; give a per-instance cell factory");
            used = true;
            return new RankRCell(feedback, tauStarMs, optimizer, target ?? []);
        };
    }

    /// <summary>The learners, one per instance, in the order the engine created them.</summary>
    public IReadOnlyList<RankRInstance> Instances => _instances;

    /// <summary>The learner of a single-instance engine (the first one).</summary>
    public RankRUpdate Core => _instances.Count > 0 ? _instances[0].Core : throw new InvalidOperationException("the rule has not been added to an engine yet");

    /// <inheritdoc/>
    public void Bind(PlasticityBinding binding)
    {
        _projection = binding.RecurrentTraceProjection(_population);
    }

    /// <inheritdoc/>
    public IRuleInstance CreateInstance(IPlasticityContext context)
    {
        var cell = _cellOf(context.Instance);
        if (cell.Feedback.Neurons != _n) throw new ArgumentException($"the feedback is for {cell.Feedback.Neurons} neurons, the population has {_n}");
        foreach (var row in cell.Target)
            if (row.Length != cell.Feedback.TargetLength) throw new ArgumentException($"each target row needs {cell.Feedback.TargetLength} values");
        var w0 = new double[_n * _n];
        for (int i = 0; i < _n; i++)
        {
            var incoming = _projection!.Incoming(_offset + i);
            foreach (int k in incoming) w0[i * _n + _projection.Pre[k] - _offset] = context.GetWeight(_projection, k);
        }
        var core = new RankRUpdate(cell.Feedback, context.Network.DtMs, cell.TauStarMs, cell.Optimizer, _gridBits, w0) { Mode = cell.Mode };
        var made = new RankRInstance(this, core, cell.Target) { UsePseudoDerivative = cell.UsePseudoDerivative, Prediction = cell.Prediction };
        _instances.Add(made);
        return made;
    }

    internal int Population => _pop;
    internal double[] Threshold => _threshold;
    internal int Offset => _offset;
    internal PlasticProjection Projection => _projection!;
}

/// <summary>The rank-R learner of one instance (<see cref="RankRRule"/>).</summary>
public sealed class RankRInstance : ICheckpointableRuleInstance
{
    private readonly RankRRule _rule;
    private readonly double[] _row, _psi, _prediction;

    internal RankRInstance(RankRRule rule, RankRUpdate core, double[][] target)
    {
        _rule = rule;
        Core = core;
        Target = target;
        _row = new double[core.N - 1];
        _psi = new double[core.N];
        _prediction = new double[core.N];
    }

    /// <summary>g_i = e_i·ψ_i (true) or g_i = e_i (<see cref="RankRCell.UsePseudoDerivative"/>).</summary>
    public bool UsePseudoDerivative { get; init; } = true;
    /// <summary>What is filtered into ŝ (<see cref="RankRCell.Prediction"/>).</summary>
    public RankRPrediction Prediction { get; init; } = RankRPrediction.Spikes;

    /// <summary>The engine-independent update (weights, filter, optimizer).</summary>
    public RankRUpdate Core { get; }

    /// <summary>The targets of a trial, row t for tick t (replace them between trials to change the task).</summary>
    public double[][] Target { get; set; }

    /// <summary>When false, the learner only filters the spikes (ŝ) and leaves the weights alone.</summary>
    public bool Learning { get; set; } = true;

    /// <inheritdoc/>
    public void OnStep(IPlasticityContext context)
    {
        ReadOnlySpan<double> z = context.Variable(_rule.Population, GoalLifModel.Z);
        if (Prediction == RankRPrediction.Membrane)
        {
            var v = context.Variable(_rule.Population, GoalLifModel.V);
            var thr = _rule.Threshold;
            for (int i = 0; i < _prediction.Length; i++) _prediction[i] = v[i] > thr[i] ? 1.0 : 0.0;
            z = _prediction;
        }
        if (!Learning) { Core.Observe(z); return; }
        long tick = context.Tick;
        if (tick >= Target.Length) throw new InvalidOperationException($"tick {tick} is beyond the {Target.Length} ticks of the target; reset the trial");
        if (UsePseudoDerivative) context.PseudoDerivative(_rule.Population, _psi);
        else Array.Fill(_psi, 1.0);
        Core.Update(z, _psi, context.Variable(_rule.Population, GoalLifModel.Ej), Target[tick]);
        if (Core.Mode == UpdateMode.PerTrial) return;   // the weights change at the trial's end
        WriteWeights(context);
    }

    /// <inheritdoc/>
    public void OnTrialStart(IPlasticityContext context) => Core.Filter.Reset();

    /// <inheritdoc/>
    public void OnTrialEnd(IPlasticityContext context)
    {
        // Nothing to write when no step was applied (a write would bump the weights' version for nothing).
        if (Core.Mode == UpdateMode.PerTrial && Core.EndTrial()) WriteWeights(context);
    }

    /// <summary>Writes W (without its diagonal) row by row: row i's incoming synapses are its sources in ascending order.</summary>
    private void WriteWeights(IPlasticityContext context)
    {
        int n = Core.N;
        var w = Core.Weights;
        for (int i = 0; i < n; i++)
        {
            var r = w.Slice(i * n, n);
            r[..i].CopyTo(_row);
            r[(i + 1)..].CopyTo(_row.AsSpan(i));
            context.SetIncomingWeights(_rule.Projection, _rule.Offset + i, _row);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double[]> Capture() => Core.Capture();

    /// <inheritdoc/>
    public void Restore(IReadOnlyDictionary<string, double[]> state) => Core.Restore(state);
}

/// <summary>When a rule changes the weights.</summary>
public enum UpdateMode
{
    /// <summary>Every tick, acting from the next tick (docs/rules/rank_r.md step 4, the paper's protocol).</summary>
    Online,
    /// <summary>
    /// Once per trial: the directions of every tick are summed (in tick order) and applied in one optimizer step at the
    /// end of the trial; the weights are constant during a trial.
    /// </summary>
    PerTrial,
}
