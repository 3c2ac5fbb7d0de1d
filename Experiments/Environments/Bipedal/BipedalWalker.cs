using Sim.EventCore.Numerics;
using Sim.Experiments.Box2D;

namespace Sim.Experiments;

/// <summary>
/// The constants of BipedalWalker-v3 (normal terrain), taken as facts from the published environment description
/// (Farama-Foundation/Gymnasium, <c>gymnasium/envs/box2d/bipedal_walker.py</c>; docs/environments/bipedal_walker.md
/// lists each with its meaning). Lengths are in metres: the published pixel values divided by <see cref="Scale"/>.
/// </summary>
public static class BipedalConstants
{
    /// <summary>Pixels per metre of the published geometry (SCALE).</summary>
    public const double Scale = 30.0;
    /// <summary>Environment steps per second (FPS); one step is one Box2D step of 1/FPS s.</summary>
    public const double Fps = 50;
    /// <summary>Box2D velocity and position iterations per step (6·30, 2·30).</summary>
    public const int VelocityIterations = 180, PositionIterations = 60;
    /// <summary>Largest motor torque (MOTORS_TORQUE, N·m) at |action| = 1.</summary>
    public const double MotorsTorque = 80;
    /// <summary>Motor speeds (rad/s) of hips and knees (SPEED_HIP, SPEED_KNEE).</summary>
    public const double SpeedHip = 4, SpeedKnee = 6;
    /// <summary>Lidar range (LIDAR_RANGE = 160 px).</summary>
    public const double LidarRange = 160 / Scale;
    /// <summary>Largest horizontal force (N) pushed on the hull at reset, uniform in ±INITIAL_RANDOM.</summary>
    public const double InitialRandom = 5;
    /// <summary>The hull polygon in pixels (HULL_POLY).</summary>
    public static ReadOnlySpan<double> HullPolygonPx => [-30, +9, +6, +9, +34, +1, +34, -8, -30, -8];
    /// <summary>Hips sit LEG_DOWN = −8 px below the hull's origin.</summary>
    public const double LegDown = -8 / Scale;
    /// <summary>Upper-leg width and height (LEG_W = 8 px, LEG_H = 34 px); the lower leg is 0.8·LEG_W wide.</summary>
    public const double LegW = 8 / Scale, LegH = 34 / Scale;
    /// <summary>Viewport (pixels) that the velocity normalisations of the observation use.</summary>
    public const double ViewportW = 600, ViewportH = 400;
    /// <summary>Terrain vertex spacing (TERRAIN_STEP = 14 px).</summary>
    public const double TerrainStep = 14 / Scale;
    /// <summary>Terrain vertices (TERRAIN_LENGTH).</summary>
    public const int TerrainLength = 200;
    /// <summary>Mean terrain height (TERRAIN_HEIGHT = VIEWPORT_H / SCALE / 4).</summary>
    public const double TerrainHeight = ViewportH / Scale / 4;
    /// <summary>Grass run length (TERRAIN_GRASS, in terrain steps); runs are drawn from [GRASS/2, GRASS).</summary>
    public const int TerrainGrass = 10;
    /// <summary>The flat start pad (TERRAIN_STARTPAD, in terrain steps).</summary>
    public const int TerrainStartpad = 20;
    /// <summary>Ground friction (FRICTION).</summary>
    public const double Friction = 2.5;
    /// <summary>Hull density and friction; legs' density (friction: Box2D's default 0.2, as the published fixtures set none).</summary>
    public const double HullDensity = 5.0, HullFriction = 0.1, LegDensity = 1.0, LegFriction = 0.2;
    /// <summary>Collision categories: ground 0x0001; hull and legs 0x0020, colliding only with the ground (mask 0x0001).</summary>
    public const int GroundCategory = 0x0001, WalkerCategory = 0x0020, WalkerMask = 0x0001;
    /// <summary>Hip joint limits (rad).</summary>
    public const double HipLower = -0.8, HipUpper = 1.1;
    /// <summary>Knee joint limits (rad).</summary>
    public const double KneeLower = -1.6, KneeUpper = -0.1;
    /// <summary>Steps of gymnasium's TimeLimit for BipedalWalker-v3 (max_episode_steps = 1600).</summary>
    public const int TimeLimit = 1600;
    /// <summary>Gravity (m/s²): Box2D's b2World default of the published environment, (0, −10).</summary>
    public const double Gravity = -10;
    /// <summary>The episode succeeds when the hull passes x = (TERRAIN_LENGTH − TERRAIN_GRASS)·TERRAIN_STEP.</summary>
    public const double FinishX = (TerrainLength - TerrainGrass) * TerrainStep;
    /// <summary>Where the hull starts: x = TERRAIN_STEP·TERRAIN_STARTPAD/2, y = TERRAIN_HEIGHT + 2·LEG_H.</summary>
    public const double StartX = TerrainStep * TerrainStartpad / 2, StartY = TerrainHeight + 2 * LegH;
    /// <summary>Reward: 130 per SCALE metres forward (300 on the whole terrain); −5 per radian of hull tilt; a fall is −100.</summary>
    public const double ForwardReward = 130, TiltPenalty = 5, FallReward = -100;
    /// <summary>Torque cost per unit |action| of each motor per step: 0.00035·MOTORS_TORQUE.</summary>
    public const double TorqueCost = 0.00035 * MotorsTorque;

    /// <summary>The 24 observation variables, in order (docs/environments/bipedal_walker.md gives each normalisation).</summary>
    public static readonly string[] ObservationNames =
    [
        "hull_angle", "hull_angular_velocity", "vel_x", "vel_y",
        "hip1_angle", "hip1_speed", "knee1_angle", "knee1_speed", "leg1_contact",
        "hip2_angle", "hip2_speed", "knee2_angle", "knee2_speed", "leg2_contact",
        "lidar0", "lidar1", "lidar2", "lidar3", "lidar4", "lidar5", "lidar6", "lidar7", "lidar8", "lidar9",
    ];

    /// <summary>The 4 action variables, in order: motor commands in [−1, 1] of hip 1, knee 1, hip 2, knee 2.</summary>
    public static readonly string[] ActionNames = ["hip1", "knee1", "hip2", "knee2"];
}

/// <summary>How an episode of <see cref="BipedalWalker"/> ended.</summary>
public enum BipedalOutcome
{
    /// <summary>Still running.</summary>
    Running,
    /// <summary>The hull touched the ground or the walker left the terrain at x &lt; 0 (reward −100, terminated).</summary>
    Fell,
    /// <summary>The hull passed <see cref="BipedalConstants.FinishX"/> (terminated).</summary>
    Finished,
    /// <summary>The step limit was reached (truncated, gymnasium's TimeLimit).</summary>
    TimeLimit,
}

/// <summary>
/// BipedalWalker-v3 (normal terrain) on Box2D 2.4.1 through Sim's shim (docs/environments/bipedal_walker.md): a hull
/// with two legs of two segments, four motor-driven revolute joints (hip, knee; the action sets each motor's speed to
/// ±SPEED·sign(a) and its torque limit to 80·min(|a|, 1)), a 10-ray lidar, the 24-value observation, the published reward
/// shaping and termination, and the v3 TimeLimit (1600 steps unless set otherwise). One object is one episode at a time
/// (one per batch instance in <see cref="ClosedLoopTask"/>). Everything random (terrain and the initial push) comes
/// from a counter-based stream keyed by (seed, episode), so an episode is the same bits on every run and on any thread.
/// As in gymnasium, <see cref="Reset"/> takes one zero-action step (its reward is not returned) before the first
/// observation. Needs the shim: the constructor throws with <see cref="Box2DLibrary.UnavailableReason"/> without it.
/// </summary>
public sealed class BipedalWalker : IEnvironment, IDisposable
{
    /// <summary>The stream of this environment's random draws: FNV-1a of its name (no other stream of the repository uses it).</summary>
    public static readonly ulong RandomStream = RngStreams.StableHash("environment/bipedal-walker-v3");

    private int _hull;
    private readonly int _timeLimit;
    private readonly double[] _obs = new double[24];
    private readonly double[] _terrainX = new double[BipedalConstants.TerrainLength], _terrainY = new double[BipedalConstants.TerrainLength];
    private readonly int[] _legs = new int[4], _joints = new int[4];   // upper 1, lower 1, upper 2, lower 2; hip 1, knee 1, hip 2, knee 2
    private Box2DWorld? _world;
    private double _prevShaping;
    private ulong _key, _draws;

    /// <summary>An environment whose episodes last at most <paramref name="timeLimit"/> steps (v3: 1600).</summary>
    public BipedalWalker(int timeLimit = BipedalConstants.TimeLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeLimit);
        Box2DLibrary.EnsureAvailable();
        _timeLimit = timeLimit;
    }

    /// <inheritdoc/>
    public int ObservationSize => 24;
    /// <inheritdoc/>
    public int ActionSize => 4;
    /// <summary>The step limit.</summary>
    public int TimeLimit => _timeLimit;
    /// <summary>Steps taken since <see cref="Reset"/> (the reset's own zero-action step not counted).</summary>
    public int Steps { get; private set; }
    /// <summary>How the episode ended, or <see cref="BipedalOutcome.Running"/>.</summary>
    public BipedalOutcome Outcome { get; private set; }
    /// <summary>The hull's state now.</summary>
    public BodyState HullState => World.Body(_hull);
    /// <summary>Forward distance of the hull since the start (x − <see cref="BipedalConstants.StartX"/>, metres).</summary>
    public double Distance => HullState.X - BipedalConstants.StartX;
    /// <summary>The terrain's vertices (x) of this episode.</summary>
    public ReadOnlySpan<double> TerrainX => _terrainX;
    /// <summary>The terrain's vertices (y) of this episode.</summary>
    public ReadOnlySpan<double> TerrainY => _terrainY;
    /// <summary>The body states of the hull and the four leg segments (upper 1, lower 1, upper 2, lower 2).</summary>
    public BodyState[] Bodies() => [World.Body(_hull), .. _legs.Select(World.Body)];

    private Box2DWorld World => _world ?? throw new InvalidOperationException("BipedalWalker: call Reset first");

    private double Uniform(double lo, double hi) => lo + (hi - lo) * CounterRng.Uniform01(CounterRng.Word(_key, _draws++));
    private int Integer(int lo, int hiExclusive) => lo + (int)(CounterRng.Uniform01(CounterRng.Word(_key, _draws++)) * (hiExclusive - lo));

    /// <inheritdoc/>
    public void Reset(ulong seed, int episode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(episode);
        _world?.Dispose();
        _key = CounterRng.Key(seed, RandomStream, (ulong)episode, 0);
        _draws = 0;
        var w = _world = new Box2DWorld(0, BipedalConstants.Gravity, BipedalConstants.GroundCategory);
        GenerateTerrain(w);
        CreateWalker(w);
        Steps = 0;
        Outcome = BipedalOutcome.Running;
        _prevShaping = double.NaN;
        Advance([0, 0, 0, 0]);   // gymnasium's reset returns the observation of one zero-action step
    }

    // The normal terrain: a random walk of the height around TERRAIN_HEIGHT, flat on the start pad, with a pause of one
    // vertex at the start of each grass run (the published generator's "oneshot"); 199 two-sided edges.
    private void GenerateTerrain(Box2DWorld w)
    {
        double velocity = 0, y = BipedalConstants.TerrainHeight;
        int counter = BipedalConstants.TerrainStartpad;
        bool oneshot = false;
        for (int i = 0; i < BipedalConstants.TerrainLength; i++)
        {
            _terrainX[i] = i * BipedalConstants.TerrainStep;
            if (!oneshot)
            {
                velocity = 0.8 * velocity + 0.01 * Math.Sign(BipedalConstants.TerrainHeight - y);
                if (i > BipedalConstants.TerrainStartpad) velocity += Uniform(-1, 1) / BipedalConstants.Scale;
                y += velocity;
            }
            oneshot = false;
            _terrainY[i] = y;
            if (--counter == 0)
            {
                counter = Integer(BipedalConstants.TerrainGrass / 2, BipedalConstants.TerrainGrass);
                oneshot = true;
            }
        }
        for (int i = 0; i < BipedalConstants.TerrainLength - 1; i++)
            w.StaticEdge(_terrainX[i], _terrainY[i], _terrainX[i + 1], _terrainY[i + 1], BipedalConstants.Friction, BipedalConstants.GroundCategory);
    }

    private void CreateWalker(Box2DWorld w)
    {
        double x = BipedalConstants.StartX, y = BipedalConstants.StartY;
        Span<double> hull = stackalloc double[10];
        for (int k = 0; k < 10; k++) hull[k] = BipedalConstants.HullPolygonPx[k] / BipedalConstants.Scale;
        _hull = w.DynamicPolygon(x, y, 0, hull, BipedalConstants.HullDensity, BipedalConstants.HullFriction, 0,
            BipedalConstants.WalkerCategory, BipedalConstants.WalkerMask);
        w.ApplyForceToCenter(_hull, Uniform(-BipedalConstants.InitialRandom, BipedalConstants.InitialRandom), 0);
        double legH = BipedalConstants.LegH, legW = BipedalConstants.LegW;
        for (int side = 0; side < 2; side++)
        {
            int sign = side == 0 ? -1 : +1;
            int upper = w.DynamicBox(x, y - legH / 2 - BipedalConstants.LegDown, sign * 0.05, legW / 2, legH / 2, BipedalConstants.LegDensity,
                BipedalConstants.LegFriction, 0, BipedalConstants.WalkerCategory, BipedalConstants.WalkerMask);
            int hip = w.RevoluteJoint(_hull, upper, 0, BipedalConstants.LegDown, 0, legH / 2, true, BipedalConstants.MotorsTorque, sign, true,
                BipedalConstants.HipLower, BipedalConstants.HipUpper);
            int lower = w.DynamicBox(x, y - legH * 3 / 2 - BipedalConstants.LegDown, sign * 0.05, 0.8 * legW / 2, legH / 2, BipedalConstants.LegDensity,
                BipedalConstants.LegFriction, 0, BipedalConstants.WalkerCategory, BipedalConstants.WalkerMask);
            int knee = w.RevoluteJoint(upper, lower, 0, -legH / 2, 0, legH / 2, true, BipedalConstants.MotorsTorque, 1, true,
                BipedalConstants.KneeLower, BipedalConstants.KneeUpper);
            _legs[2 * side] = upper; _legs[2 * side + 1] = lower;
            _joints[2 * side] = hip; _joints[2 * side + 1] = knee;
        }
    }

    /// <inheritdoc/>
    public void Observe(Span<double> observation)
    {
        if (_world is null) throw new InvalidOperationException("BipedalWalker: call Reset first");
        _obs.CopyTo(observation);
    }

    /// <inheritdoc/>
    public EnvironmentStep Act(ReadOnlySpan<double> action)
    {
        if (_world is null) throw new InvalidOperationException("BipedalWalker: call Reset first");
        if (Outcome != BipedalOutcome.Running) throw new InvalidOperationException($"BipedalWalker: the episode is over ({Outcome}); call Reset");
        if (action.Length != 4) throw new ArgumentException($"an action has 4 values, not {action.Length}", nameof(action));
        foreach (double a in action)
            if (!double.IsFinite(a)) throw new ArgumentException($"the action holds a non-finite value ({a})", nameof(action));
        double reward = Advance(action);
        Steps++;
        if (Outcome == BipedalOutcome.Running && Steps >= _timeLimit) Outcome = BipedalOutcome.TimeLimit;
        return new EnvironmentStep(reward, Outcome != BipedalOutcome.Running);
    }

    // One published step: motors, a Box2D step, lidar, observation, reward, termination.
    private double Advance(ReadOnlySpan<double> action)
    {
        var w = World;
        for (int j = 0; j < 4; j++)
        {
            double speed = j % 2 == 0 ? BipedalConstants.SpeedHip : BipedalConstants.SpeedKnee;
            w.SetMotor(_joints[j], speed * Math.Sign(action[j]), BipedalConstants.MotorsTorque * Math.Clamp(Math.Abs(action[j]), 0, 1));
        }
        w.Step(1 / BipedalConstants.Fps, BipedalConstants.VelocityIterations, BipedalConstants.PositionIterations);

        var hull = w.Body(_hull);
        var o = _obs;
        o[0] = hull.Angle;
        o[1] = 2.0 * hull.AngularVelocity / BipedalConstants.Fps;
        o[2] = 0.3 * hull.Vx * (BipedalConstants.ViewportW / BipedalConstants.Scale) / BipedalConstants.Fps;
        o[3] = 0.3 * hull.Vy * (BipedalConstants.ViewportH / BipedalConstants.Scale) / BipedalConstants.Fps;
        for (int side = 0; side < 2; side++)
        {
            var hip = w.Joint(_joints[2 * side]);
            var knee = w.Joint(_joints[2 * side + 1]);
            int b = 4 + 5 * side;
            o[b] = hip.Angle;
            o[b + 1] = hip.Speed / BipedalConstants.SpeedHip;
            o[b + 2] = knee.Angle + 1.0;
            o[b + 3] = knee.Speed / BipedalConstants.SpeedKnee;
            o[b + 4] = w.InContact(_legs[2 * side + 1]) ? 1.0 : 0.0;
        }
        for (int i = 0; i < 10; i++)
        {
            double a = 1.5 * i / 10.0;
            o[14 + i] = w.RayCastClosest(hull.X, hull.Y, hull.X + Math.Sin(a) * BipedalConstants.LidarRange, hull.Y - Math.Cos(a) * BipedalConstants.LidarRange,
                BipedalConstants.GroundCategory);
        }

        double shaping = BipedalConstants.ForwardReward * hull.X / BipedalConstants.Scale - BipedalConstants.TiltPenalty * Math.Abs(o[0]);
        double reward = double.IsNaN(_prevShaping) ? 0 : shaping - _prevShaping;
        _prevShaping = shaping;
        for (int j = 0; j < 4; j++) reward -= BipedalConstants.TorqueCost * Math.Clamp(Math.Abs(action[j]), 0, 1);

        if (w.Touched(_hull) || hull.X < 0)
        {
            reward = BipedalConstants.FallReward;
            Outcome = BipedalOutcome.Fell;
        }
        else if (hull.X > BipedalConstants.FinishX) Outcome = BipedalOutcome.Finished;
        return reward;
    }

    /// <summary>Frees the Box2D world.</summary>
    public void Dispose()
    {
        _world?.Dispose();
        _world = null;
    }
}
