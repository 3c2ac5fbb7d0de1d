namespace Sim.Plasticity.Controllers;

/// <summary>
/// What a learning-rate controller reports after one observation: the learning rate (Kalman gain) k_t with which its own
/// estimate moved towards the observation, its volatility and stochasticity estimates and its mean estimate m_t.
/// </summary>
/// <param name="LearningRate">k_t ∈ (0, 1): the learning rate of this trial.</param>
/// <param name="Volatility">The estimated volatility v (variance of the hidden random walk per trial).</param>
/// <param name="Stochasticity">The estimated stochasticity s (variance of the observation noise).</param>
/// <param name="Mean">The posterior mean m_t of the hidden state.</param>
public readonly record struct ControllerStep(double LearningRate, double Volatility, double Stochasticity, double Mean);

/// <summary>
/// A learning-rate controller (docs/rules/controllers.md): it sees one scalar observation per trial (an outcome, or the
/// error signal of a rule) and nothing else, and answers with the learning rate of that trial. A rule that takes its η from
/// a controller asks it once per trial (<see cref="ControlledLearningRate"/>). Controllers with random draws take them from
/// the counter-based RNG (<see cref="PlasticityRandom"/>) under a key of their own, so that a result is a pure function of
/// (seed, cell) and does not depend on thread count or on how many controllers run side by side.
/// </summary>
public interface ILearningRateController
{
    /// <summary>The controller and its parameters, recorded with every result.</summary>
    string Name { get; }

    /// <summary>Takes in the observation of one trial; returns the learning rate and the estimates after it.</summary>
    ControllerStep Observe(double observation);

    /// <summary>Back to the state before the first observation (the same draws follow again).</summary>
    void Reset();
}

/// <summary>
/// A rule's learning rate η_t = <see cref="Scale"/>·k_t, with k_t the learning rate that <see cref="Controller"/> answers to
/// the rule's per-trial error: the rule asks <see cref="Next"/> once per trial and uses <see cref="Current"/> until then.
/// </summary>
public sealed class ControlledLearningRate
{
    /// <summary>A controller-driven η = <paramref name="scale"/>·k_t; before the first trial η = <paramref name="scale"/>·<paramref name="initialGain"/>.</summary>
    public ControlledLearningRate(ILearningRateController controller, double scale, double initialGain)
    {
        ArgumentNullException.ThrowIfNull(controller);
        if (!(scale > 0) || !double.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), "the scale of a controlled η must be finite and > 0");
        if (!(initialGain > 0 && initialGain <= 1)) throw new ArgumentOutOfRangeException(nameof(initialGain), "the initial gain must lie in (0, 1]");
        Controller = controller;
        Scale = scale;
        InitialGain = initialGain;
        Current = Make(initialGain);
    }

    /// <summary>The controller.</summary>
    public ILearningRateController Controller { get; }
    /// <summary>η_t = Scale·k_t.</summary>
    public double Scale { get; }
    /// <summary>k before the first observation.</summary>
    public double InitialGain { get; }
    /// <summary>The learning rate of the current trial.</summary>
    public LearningRate Current { get; private set; }
    /// <summary>The controller's last step (default before the first observation).</summary>
    public ControllerStep Last { get; private set; }

    /// <summary>Feeds the error of the trial just finished; returns the learning rate of the next one.</summary>
    public LearningRate Next(double error)
    {
        Last = Controller.Observe(error);
        Current = Make(Last.LearningRate);
        return Current;
    }

    /// <summary>Back to the start (the controller reset, η = Scale·InitialGain).</summary>
    public void Reset()
    {
        Controller.Reset();
        Last = default;
        Current = Make(InitialGain);
    }

    private LearningRate Make(double k) => new(FormattableString.Invariant($"{Scale:G6}*k_t, {Controller.Name}"), Scale * Math.Max(k, double.Epsilon));
}
