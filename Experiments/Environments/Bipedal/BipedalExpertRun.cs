using System.Diagnostics;
using System.Globalization;

namespace Sim.Experiments;

/// <summary>One expert episode of <see cref="BipedalWalker"/>.</summary>
/// <param name="Episode">The episode index (the environment is reset with (seed, episode)).</param>
/// <param name="Return">Sum of the rewards.</param>
/// <param name="Distance">Forward distance of the hull (m).</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="HullX">Hull x after the reset and after each step.</param>
/// <param name="HullY">Hull y likewise.</param>
/// <param name="Demonstration">The recorded (observation, action, reward) sequence.</param>
public sealed record BipedalEpisode(int Episode, double Return, double Distance, int Steps, BipedalOutcome Outcome, double[] HullX, double[] HullY,
    Demonstration Demonstration)
{
    /// <summary>True when the walker reached the end of the terrain (it walked the terrain forward).</summary>
    public bool Finished => Outcome == BipedalOutcome.Finished;
}

/// <summary>Runs <see cref="BipedalExpert"/> on <see cref="BipedalWalker"/> episodes and records them as demonstrations.</summary>
public static class BipedalExpertRun
{
    /// <summary>
    /// Episode <paramref name="episode"/> of <paramref name="seed"/> with the expert; <paramref name="onReward"/> gets each
    /// step's reward, then <paramref name="onStep"/> sees the environment (also once after the reset).
    /// </summary>
    public static BipedalEpisode Run(ulong seed, int episode, int timeLimit = BipedalConstants.TimeLimit, Action<BipedalWalker>? onStep = null,
        Action<double>? onReward = null)
    {
        using var env = new BipedalWalker(timeLimit);
        var expert = new BipedalExpert();
        env.Reset(seed, episode);
        onStep?.Invoke(env);
        var obs = new List<double[]>();
        var act = new List<double[]>();
        var rew = new List<double>();
        var xs = new List<double> { env.HullState.X };
        var ys = new List<double> { env.HullState.Y };
        double ret = 0;
        while (true)
        {
            var o = new double[24];
            var a = new double[4];
            env.Observe(o);
            expert.Act(o, a);
            var step = env.Act(a);
            obs.Add(o); act.Add(a); rew.Add(step.Reward);
            ret += step.Reward;
            var h = env.HullState;
            xs.Add(h.X); ys.Add(h.Y);
            onReward?.Invoke(step.Reward);
            onStep?.Invoke(env);
            if (step.Done) break;
        }
        var meta = new Dictionary<string, string>
        {
            ["environment"] = "BipedalWalker-v3 (normal terrain) on Box2D 2.4.1, docs/environments/bipedal_walker.md",
            ["controller"] = "BipedalExpert",
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["episode"] = episode.ToString(CultureInfo.InvariantCulture),
            ["steps"] = env.Steps.ToString(CultureInfo.InvariantCulture),
            ["outcome"] = env.Outcome.ToString(),
            ["return"] = ret.ToString("R", CultureInfo.InvariantCulture),
            ["distance_m"] = env.Distance.ToString("R", CultureInfo.InvariantCulture),
        };
        return new BipedalEpisode(episode, ret, env.Distance, env.Steps, env.Outcome, [.. xs], [.. ys], new Demonstration([.. obs], [.. act], [.. rew], meta));
    }

    /// <summary>Episodes 0..<paramref name="episodes"/>−1 of <paramref name="seed"/> on <paramref name="threads"/> threads (the results do not depend on it), with the environment steps per second.</summary>
    public static (BipedalEpisode[] Episodes, double StepsPerSecond) RunMany(ulong seed, int episodes, int threads, int timeLimit = BipedalConstants.TimeLimit,
        CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(episodes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        var result = new BipedalEpisode[episodes];
        var sw = Stopwatch.StartNew();
        Parallel.For(0, episodes, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancel }, e => result[e] = Run(seed, e, timeLimit));
        double seconds = sw.Elapsed.TotalSeconds;
        return (result, result.Sum(r => r.Steps) / Math.Max(seconds, 1e-9));
    }
}
