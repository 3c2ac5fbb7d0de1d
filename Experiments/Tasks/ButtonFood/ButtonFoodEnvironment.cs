namespace Sim.Experiments;

/// <summary>
/// The geometry and rules of Button &amp; Food (Capone, Muratore &amp; Paolucci 2022, closed-loop behavioural cloning;
/// docs/tasks/button_food.md), with the constants of the authors' code. Lengths are in the task's arbitrary units.
/// </summary>
public sealed record ButtonFoodGeometry
{
    /// <summary>The agent's start (0, 0).</summary>
    public (double X, double Y) Start { get; init; } = (0, 0);
    /// <summary>The button (0, −0.2).</summary>
    public (double X, double Y) Button { get; init; } = (0, -0.2);
    /// <summary>The target lies at this distance from the origin, at the episode's angle θ: 0.7·(cos θ, sin θ).</summary>
    public double TargetRadius { get; init; } = 0.7;
    /// <summary>Position change per unit of action per step: position += action·0.01.</summary>
    public double StepScale { get; init; } = 0.01;
    /// <summary>The lock opens (and stays open) within this distance of the button.</summary>
    public double ButtonRadius { get; init; } = 0.05;
    /// <summary>Once unlocked, the episode ends within this distance of the target.</summary>
    public double TargetReach { get; init; } = 0.03;
    /// <summary>Steps per episode (T).</summary>
    public int Steps { get; init; } = 80;
    /// <summary>The expert's steps from the start to the button (then one pause, then the rest to the target).</summary>
    public int ExpertButtonSteps { get; init; } = 29;

    /// <summary>The target at angle <paramref name="thetaRad"/>.</summary>
    public (double X, double Y) Target(double thetaRad) => (TargetRadius * Math.Cos(thetaRad), TargetRadius * Math.Sin(thetaRad));

    /// <summary>Checks the values (finite, positive lengths, an expert schedule that fits in T).</summary>
    public void Validate()
    {
        static bool Finite(params double[] v) => v.All(double.IsFinite);
        if (!Finite(Start.X, Start.Y, Button.X, Button.Y, TargetRadius, StepScale, ButtonRadius, TargetReach)) throw new ArgumentException("the geometry must be finite");
        if (!(StepScale > 0 && ButtonRadius > 0 && TargetReach > 0 && TargetRadius > 0)) throw new ArgumentException("step scale, radii and reach must be > 0");
        if (ExpertButtonSteps < 1 || Steps < ExpertButtonSteps + 3) throw new ArgumentException($"T = {Steps} must leave room for the expert's {ExpertButtonSteps} steps to the button, a pause and at least one step to the target");
    }

    /// <summary>
    /// The expert's actions for a target at <paramref name="thetaRad"/> (T rows of 2): 0 at step 0; (button − start)/(S·c)
    /// for steps 1…S (S = <see cref="ExpertButtonSteps"/>, c = <see cref="StepScale"/>); 0 at step S + 1; then
    /// (target − button)/((T − S − 2)·c) to the end. The authors' numbers: (0, −0.6897) for 29 steps, a pause, 49 steps
    /// to the target (e.g. (0, 1.837) at 90°).
    /// </summary>
    public double[][] ExpertActions(double thetaRad)
    {
        var target = Target(thetaRad);
        int s = ExpertButtonSteps, rest = Steps - s - 2;
        var a = new double[Steps][];
        for (int t = 0; t < Steps; t++)
        {
            a[t] = new double[2];
            if (t >= 1 && t <= s) { a[t][0] = (Button.X - Start.X) / (s * StepScale); a[t][1] = (Button.Y - Start.Y) / (s * StepScale); }
            else if (t >= s + 2) { a[t][0] = (target.X - Button.X) / (rest * StepScale); a[t][1] = (target.Y - Button.Y) / (rest * StepScale); }
        }
        return a;
    }
}

/// <summary>
/// The Button &amp; Food environment (docs/tasks/button_food.md): a point agent in the plane starts at (0, 0); the food
/// (target) is locked until the agent has come within 0.05 of the button at (0, −0.2); then the episode ends when the
/// agent is within 0.03 of the target at 0.7·(cos θ, sin θ). Each step moves the agent by action·0.01 (no clipping).
/// Observation (4 values): [target − agent, button − agent]. Reward of a step: 0 while locked, else 1/‖target − agent‖.
/// The task's score is the largest reward of the episode (<c>max_reward</c> of <see cref="ClosedLoopTask"/>). The
/// environment is deterministic: θ is fixed per object (one episode per batch instance); the seed is not used. The
/// agent's path is kept (<see cref="Path"/>, preallocated: no allocation per step).
/// </summary>
public sealed class ButtonFoodEnvironment : IEnvironment
{
    private readonly ButtonFoodGeometry _g;
    private readonly (double X, double Y) _target;
    private readonly double[] _path;   // (x, y) per step, position after step t at [2t + 2], start at [0]
    private double _x, _y;
    private int _steps;

    /// <summary>An environment with the target at angle <paramref name="thetaRad"/> (radians).</summary>
    public ButtonFoodEnvironment(ButtonFoodGeometry geometry, double thetaRad)
    {
        geometry.Validate();
        if (!double.IsFinite(thetaRad)) throw new ArgumentOutOfRangeException(nameof(thetaRad), "θ must be finite");
        _g = geometry;
        ThetaRad = thetaRad;
        _target = geometry.Target(thetaRad);
        _path = new double[2 * (geometry.Steps + 1)];
        Reset(0, 0);
    }

    /// <summary>θ (radians).</summary>
    public double ThetaRad { get; }
    /// <summary>True once the agent has reached the button.</summary>
    public bool Unlocked { get; private set; }
    /// <summary>True once the unlocked agent reached the target.</summary>
    public bool Reached { get; private set; }
    /// <summary>Steps taken in this episode.</summary>
    public int StepsTaken => _steps;
    /// <summary>The agent's positions (x0, y0, x1, y1, …): the start and the position after each step taken.</summary>
    public ReadOnlySpan<double> Path => _path.AsSpan(0, 2 * (_steps + 1));

    /// <inheritdoc/>
    public int ObservationSize => 4;
    /// <inheritdoc/>
    public int ActionSize => 2;

    /// <inheritdoc/>
    public void Reset(ulong seed, int episode)
    {
        (_x, _y) = _g.Start;
        _steps = 0;
        Unlocked = Reached = false;
        _path[0] = _x; _path[1] = _y;
    }

    /// <inheritdoc/>
    public void Observe(Span<double> observation)
    {
        observation[0] = _target.X - _x; observation[1] = _target.Y - _y;
        observation[2] = _g.Button.X - _x; observation[3] = _g.Button.Y - _y;
    }

    /// <inheritdoc/>
    public EnvironmentStep Act(ReadOnlySpan<double> action)
    {
        if (action.Length != 2) throw new ArgumentException("the action has 2 values", nameof(action));
        if (_steps >= _g.Steps) throw new InvalidOperationException($"the episode has ended after {_g.Steps} steps; reset it");
        _x += action[0] * _g.StepScale;
        _y += action[1] * _g.StepScale;
        _steps++;
        _path[2 * _steps] = _x; _path[2 * _steps + 1] = _y;
        if (!Unlocked && Distance(_g.Button) < _g.ButtonRadius) Unlocked = true;
        double d = Distance(_target);
        double reward = Unlocked ? 1.0 / d : 0.0;
        Reached = Unlocked && d < _g.TargetReach;
        return new EnvironmentStep(reward, Reached || _steps == _g.Steps);
    }

    private double Distance((double X, double Y) p)
    {
        double dx = p.X - _x, dy = p.Y - _y;
        return Math.Sqrt(dx * dx + dy * dy);
    }
}
