namespace Sim.Experiments;

/// <summary>
/// A walking controller for <see cref="BipedalWalker"/> that reads only the 24-value observation: a three-phase gait
/// state machine (after the idea of gymnasium's documented heuristic) with PD control of hip and knee targets.
/// <list type="number">
/// <item><b>Swing</b>: the moving leg's hip goes to <see cref="SwingHip"/> (forward) with its knee bent to
/// <see cref="SwingKnee"/>; the supporting knee straightens gradually (faster while the hull is fast). When the
/// supporting hip has swept behind <see cref="SupportBehind"/>, the moving leg is put down.</item>
/// <item><b>Plant</b>: the moving hip goes to <see cref="PlantHip"/> with a straight knee, until its foot reports ground
/// contact.</item>
/// <item><b>Push</b>: the supporting knee extends to push off until it is nearly straight or the hull is fast enough;
/// then the legs swap roles.</item>
/// </list>
/// Every phase adds a hull-attitude term to both hips (PD on the hull angle and its angular velocity) and a vertical
/// damping term to both knees; the sum is halved and clipped to [−1, 1]. One object per episode; <see cref="Reset"/>
/// at its start. Deterministic: the action is a pure function of the observations seen since the reset.
/// </summary>
public sealed class BipedalExpert
{
    /// <summary>The gait phase.</summary>
    public enum Phase
    {
        /// <summary>The moving leg swings forward.</summary>
        Swing,
        /// <summary>The moving leg is put down.</summary>
        Plant,
        /// <summary>The supporting leg pushes off.</summary>
        Push,
    }

    /// <summary>Hull speed (observation units, vel_x) above which the supporting knee straightens faster and the push ends.</summary>
    public double Speed { get; init; } = 0.26;
    /// <summary>The push also ends when the hull is faster than this (observation units, vel_x).</summary>
    public double PushEndSpeed { get; init; } = 0.312;
    /// <summary>Hip target of the swinging leg (rad; the joint limit is 1.1).</summary>
    public double SwingHip { get; init; } = 1.1;
    /// <summary>Knee target of the swinging leg (observation units: knee angle + 1).</summary>
    public double SwingKnee { get; init; } = -0.6;
    /// <summary>Hip target of the leg being put down.</summary>
    public double PlantHip { get; init; } = 0.1;
    /// <summary>Straight-knee target of the supporting leg (observation units).</summary>
    public double SupportKnee { get; init; } = 0.1;
    /// <summary>The swing ends when the supporting hip is behind this angle.</summary>
    public double SupportBehind { get; init; } = 0.1;
    /// <summary>The push ends when the supporting knee passes this value (observation units).</summary>
    public double PushKnee { get; init; } = 0.88;
    /// <summary>PD gain on the hip angle error.</summary>
    public double HipP { get; init; } = 0.9;
    /// <summary>PD gain on the hip speed.</summary>
    public double HipD { get; init; } = 0.25;
    /// <summary>PD gain on the knee angle error.</summary>
    public double KneeP { get; init; } = 4.0;
    /// <summary>PD gain on the knee speed.</summary>
    public double KneeD { get; init; } = 0.25;
    /// <summary>Gain of the hull angle in both hips (keeps the hull level).</summary>
    public double HullP { get; init; } = 0.9;
    /// <summary>Gain of the hull angular velocity (observation units) in both hips.</summary>
    public double HullD { get; init; } = 1.5;
    /// <summary>Gain of the vertical hull speed (observation units) in both knees (damps bouncing).</summary>
    public double VerticalDamping { get; init; } = 15.0;

    private int _moving;
    private double _supportKnee;

    /// <summary>The phase now.</summary>
    public Phase State { get; private set; }
    /// <summary>The leg that moves (0 or 1).</summary>
    public int MovingLeg => _moving;

    /// <summary>A controller at the start of a gait: swinging leg 0.</summary>
    public BipedalExpert() => Reset();

    /// <summary>Back to the start of a gait.</summary>
    public void Reset()
    {
        State = Phase.Swing;
        _moving = 0;
        _supportKnee = SupportKnee;
    }

    /// <summary>Writes the action (4 values in [−1, 1]) for observation <paramref name="s"/> (24 values).</summary>
    public void Act(ReadOnlySpan<double> s, Span<double> action)
    {
        if (s.Length != 24) throw new ArgumentException($"an observation has 24 values, not {s.Length}", nameof(s));
        if (action.Length != 4) throw new ArgumentException($"an action has 4 values, not {action.Length}", nameof(action));
        int support = 1 - _moving;
        int mb = 4 + 5 * _moving, sb = 4 + 5 * support;
        Span<double> hipTarget = [double.NaN, double.NaN], kneeTarget = [double.NaN, double.NaN];

        if (State == Phase.Swing)
        {
            hipTarget[_moving] = SwingHip;
            kneeTarget[_moving] = SwingKnee;
            _supportKnee += 0.03;
            if (s[2] > Speed) _supportKnee += 0.03;
            _supportKnee = Math.Min(_supportKnee, SupportKnee);
            kneeTarget[support] = _supportKnee;
            if (s[sb] < SupportBehind) State = Phase.Plant;
        }
        if (State == Phase.Plant)
        {
            hipTarget[_moving] = PlantHip;
            kneeTarget[_moving] = SupportKnee;
            kneeTarget[support] = _supportKnee;
            if (s[mb + 4] > 0.5)
            {
                State = Phase.Push;
                _supportKnee = Math.Min(s[mb + 2], SupportKnee);
            }
        }
        if (State == Phase.Push)
        {
            kneeTarget[_moving] = _supportKnee;
            kneeTarget[support] = 1.0;
            if (s[sb + 2] > PushKnee || s[2] > PushEndSpeed)
            {
                State = Phase.Swing;
                _moving = support;
            }
        }

        for (int leg = 0; leg < 2; leg++)
        {
            int b = 4 + 5 * leg;
            double hip = double.IsNaN(hipTarget[leg]) ? 0 : HipP * (hipTarget[leg] - s[b]) - HipD * s[b + 1];
            double knee = double.IsNaN(kneeTarget[leg]) ? 0 : KneeP * (kneeTarget[leg] - s[b + 2]) - KneeD * s[b + 3];
            hip += HullP * s[0] + HullD * s[1];        // keep the hull level
            knee -= VerticalDamping * s[3];            // damp vertical oscillations
            action[2 * leg] = Math.Clamp(0.5 * hip, -1, 1);
            action[2 * leg + 1] = Math.Clamp(0.5 * knee, -1, 1);
        }
    }
}
