namespace Sim.Plasticity.Controllers;

/// <summary>Which controller drives a rule's η (docs/rules/controllers.md, "Driving a rule").</summary>
public enum EtaControllerKind
{
    /// <summary>The volatile Kalman filter (Piray &amp; Daw 2020).</summary>
    Vkf,
    /// <summary>The particle filter that infers volatility and stochasticity jointly (Piray &amp; Daw 2021), unlesioned.</summary>
    ParticleFilter,
}

/// <summary>
/// SGD whose η comes from a learning-rate controller, one value per trial: w_k ← w_k + η_t·d_k with
/// η_t = scale·k_t (<see cref="ControlledLearningRate"/>). After each trial the rule's owner calls
/// <see cref="EndTrial"/> with the trial's error e_t; the controller observes o_t = e_t / e_0 (the error relative to
/// the first trial's, so that the controllers' unit-scale priors, v₀ = 1 and s₀ = 2 or ω = 2, fit any task's error
/// scale) and answers k_{t+1}. The scale is η₀ / k₀ with k₀ = 0.5, so the first trial runs at the base η₀ and η_t stays
/// within (0, 2η₀) as k_t ∈ (0, 1). The element arithmetic is <see cref="Sgd"/>'s (one fused-free multiply-add).
/// </summary>
/// <remarks>
/// The controller's internal state (particles, estimates) is not part of a checkpoint: <see cref="Capture"/> refuses,
/// so that a checkpoint never silently restarts the controller.
/// </remarks>
public sealed class ControlledSgd : IOptimizer
{
    /// <summary>The controller's gain at the first trial (η = η₀ there).</summary>
    public const double InitialGain = 0.5;

    private readonly List<double> _etas = [];
    private double _firstError = double.NaN;

    /// <summary>SGD with η_t = (<paramref name="baseRate"/>.Eta / <see cref="InitialGain"/>)·k_t of <paramref name="controller"/>.</summary>
    public ControlledSgd(ILearningRateController controller, LearningRate baseRate)
    {
        ArgumentNullException.ThrowIfNull(baseRate);
        BaseRate = baseRate;
        Rate = new ControlledLearningRate(controller, baseRate.Eta / InitialGain, InitialGain);
        _etas.Add(Rate.Current.Eta);
    }

    /// <summary>Makes the controller of <paramref name="kind"/> with its random draws keyed by (<paramref name="seed"/>, <paramref name="cell"/>).</summary>
    public static ILearningRateController CreateController(EtaControllerKind kind, ulong seed, ulong cell) => kind switch
    {
        EtaControllerKind.Vkf => new VolatileKalmanFilter(),
        EtaControllerKind.ParticleFilter => new VolatilityStochasticityFilter(new VolatilityStochasticityOptions(), PlasticityRandom.Key(seed, PlasticityRandom.ControllerPurpose, cell)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown controller"),
    };

    /// <summary>η₀, the base learning rate the controller scales.</summary>
    public LearningRate BaseRate { get; }

    /// <summary>The controlled rate (current η, the controller's last step).</summary>
    public ControlledLearningRate Rate { get; }

    /// <summary>η of every trial so far, the current one last.</summary>
    public IReadOnlyList<double> EtaPerTrial => _etas;

    /// <inheritdoc/>
    public string Name => $"sgd, eta_t = {Rate.Scale:G6}*k_t (base {BaseRate.Name}, eta_0 = {BaseRate.Eta:G6}), controller {Rate.Controller.Name}, observing error/error_0";

    /// <inheritdoc/>
    public void Step(Span<double> w, ReadOnlySpan<double> d)
    {
        if (w.Length != d.Length) throw new ArgumentException("w and d differ in length", nameof(d));
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(d, Rate.Current.Eta, w, w);   // as Sgd: w_k + d_k·η, never fused
    }

    /// <summary>The trial just finished had error <paramref name="error"/>: the controller answers the next trial's η.</summary>
    public double EndTrial(double error)
    {
        if (!double.IsFinite(error) || error < 0) throw new ArgumentOutOfRangeException(nameof(error), error, "a trial's error must be finite and ≥ 0");
        if (double.IsNaN(_firstError)) _firstError = error > 0 ? error : 1;
        double eta = Rate.Next(error / _firstError).Eta;
        _etas.Add(eta);
        return eta;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        Rate.Reset();
        _firstError = double.NaN;
        _etas.Clear();
        _etas.Add(Rate.Current.Eta);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double[]> Capture() =>
        throw new NotSupportedException($"a checkpoint does not hold the state of the learning-rate controller ({Rate.Controller.Name}); run controlled learning without checkpoints");

    /// <inheritdoc/>
    public void Restore(IReadOnlyDictionary<string, double[]> state) =>
        throw new NotSupportedException("a checkpoint cannot restore a learning-rate controller's state");
}
