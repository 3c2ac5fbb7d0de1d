using Sim.Experiments;
using Sim.Experiments.Box2D;
using Sim.Specs.Cli;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>BipedalWalker-v3 on Box2D, its expert and the demonstration files (docs/environments/bipedal_walker.md).</summary>
public class BipedalWalkerTests
{
    private static long[] Bits(BipedalEpisode e) =>
    [
        BitConverter.DoubleToInt64Bits(e.Return), BitConverter.DoubleToInt64Bits(e.Distance), e.Steps, (long)e.Outcome,
        .. e.Demonstration.Observations.SelectMany(o => o).Select(BitConverter.DoubleToInt64Bits),
        .. e.Demonstration.Actions.SelectMany(a => a).Select(BitConverter.DoubleToInt64Bits),
        .. e.Demonstration.Rewards!.Select(BitConverter.DoubleToInt64Bits),
        .. e.HullX.Concat(e.HullY).Select(BitConverter.DoubleToInt64Bits),
    ];

    [Box2DFact]
    public void TheSameSeedAndEpisodeGiveTheSameBitsTwice()
    {
        var a = BipedalExpertRun.Run(7, 3);
        var b = BipedalExpertRun.Run(7, 3);
        Assert.Equal(Bits(a), Bits(b));
        var other = BipedalExpertRun.Run(7, 4, timeLimit: 50);
        Assert.NotEqual(a.Demonstration.Observations[49], other.Demonstration.Observations[49]);   // another terrain and push
    }

    [Box2DFact]
    public void EnvironmentsSteppedOnDifferentThreadsGiveTheSameBits()
    {
        var alone = BipedalExpertRun.Run(2, 5, timeLimit: 400);
        var results = new BipedalEpisode[4];
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(k => new Thread(() => { start.SignalAndWait(); results[k] = BipedalExpertRun.Run(2, 5, timeLimit: 400); })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        foreach (var r in results) Assert.Equal(Bits(alone), Bits(r));
        var (one, _) = BipedalExpertRun.RunMany(2, 3, threads: 1, timeLimit: 200);
        var (two, _) = BipedalExpertRun.RunMany(2, 3, threads: 3, timeLimit: 200);
        for (int e = 0; e < 3; e++) Assert.Equal(Bits(one[e]), Bits(two[e]));
    }

    [Box2DFact]
    public void APassiveWalkerFallsAndTheEpisodeTerminates()
    {
        using var env = new BipedalWalker();
        env.Reset(1, 0);
        double startY = env.HullState.Y;
        EnvironmentStep step = default;
        int n = 0;
        while (!step.Done) { step = env.Act([0, 0, 0, 0]); n++; }
        Assert.Equal(BipedalOutcome.Fell, env.Outcome);
        Assert.Equal(BipedalConstants.FallReward, step.Reward);
        Assert.True(n < 200, $"a walker without torque falls within 4 s (took {n} steps)");
        Assert.True(env.HullState.Y < startY - 0.5, "the hull came down");
        Assert.Throws<InvalidOperationException>(() => env.Act([0, 0, 0, 0]));
    }

    [Box2DFact]
    public void TheExpertWalksAndItsReturnIsReproducibleToTheBit()
    {
        var a = BipedalExpertRun.Run(1, 0);
        var b = BipedalExpertRun.Run(1, 0);
        Assert.Equal(BipedalOutcome.Finished, a.Outcome);
        Assert.True(a.Return > 300, $"return {a.Return}");
        Assert.True(a.Distance > 80, $"distance {a.Distance}");
        Assert.Equal(BitConverter.DoubleToInt64Bits(a.Return), BitConverter.DoubleToInt64Bits(b.Return));
        Assert.Equal(a.Demonstration.Rewards!.Sum(), a.Return, 9);
    }

    [Box2DFact]
    public void TheObservationHasThePublishedLayout()
    {
        using var env = new BipedalWalker();
        Assert.Equal(24, env.ObservationSize);
        Assert.Equal(4, env.ActionSize);
        Assert.Equal(24, BipedalConstants.ObservationNames.Length);
        env.Reset(3, 1);
        var o = new double[24];
        env.Observe(o);
        Assert.Equal(BipedalConstants.StartX, env.HullState.X, 1);     // one step after the reset: still at the start
        Assert.Equal(0, o[0], 1);                                        // hull level
        Assert.InRange(o[6], 1 + BipedalConstants.KneeLower - 0.05, 1 + BipedalConstants.KneeUpper + 0.05);   // knee + 1
        var expert = new BipedalExpert();
        var a = new double[4];
        for (int t = 0; t < 300; t++)
        {
            env.Observe(o);
            Assert.All(o, v => Assert.True(double.IsFinite(v)));
            for (int i = 14; i < 24; i++) Assert.InRange(o[i], 0, 1);   // lidar fractions
            Assert.Contains(o[8], new[] { 0.0, 1.0 });
            Assert.Contains(o[13], new[] { 0.0, 1.0 });
            Assert.InRange(o[4], BipedalConstants.HipLower - 0.1, BipedalConstants.HipUpper + 0.1);
            Assert.InRange(o[9], BipedalConstants.HipLower - 0.1, BipedalConstants.HipUpper + 0.1);
            // The first ray points straight down from the hull: it hits the ground below it.
            Assert.True(o[14] < 1, "the downward ray hits the terrain");
            expert.Act(o, a);
            Assert.All(a, v => Assert.InRange(v, -1, 1));
            Assert.False(env.Act(a).Done);
        }
        Assert.True(env.Distance > 5, "the expert moves forward");
        Assert.Throws<ArgumentException>(() => env.Act([double.NaN, 0, 0, 0]));
        Assert.Throws<ArgumentException>(() => env.Act([0, 0, 0]));
    }

    [Box2DFact]
    public void TheTimeLimitTruncates()
    {
        using var env = new BipedalWalker(timeLimit: 10);
        env.Reset(1, 0);
        EnvironmentStep s = default;
        for (int t = 0; t < 10; t++) s = env.Act([0, 0, 0, 0]);
        Assert.True(s.Done);
        Assert.Equal(BipedalOutcome.TimeLimit, env.Outcome);
        Assert.Equal(10, env.Steps);
    }

    private static Demonstration Small() => new(
        [[.. Enumerable.Range(0, 24).Select(i => i * 0.1)], [.. Enumerable.Range(0, 24).Select(i => -1.0 / (i + 3))]],
        [[0.5, -1, 1, 0.1], [-0.25, 0, 1e-17, -0.75]], [1.5, -100], new Dictionary<string, string> { ["seed"] = "4" });

    [Fact]
    public void DemonstrationFilesRoundTripToTheBit()
    {
        string dir = CliHarness.TempDir();
        string path = Path.Combine(dir, "d.csv");
        var d = Small();
        DemonstrationFile.Write(path, d);
        var lines = File.ReadAllLines(path);
        Assert.Equal(DemonstrationFile.Magic, lines[0]);
        Assert.Equal("# seed=4", lines[1]);
        Assert.Equal("variable,0,1", lines[2]);
        Assert.StartsWith("obs_hull_angle,", lines[3]);
        Assert.StartsWith("act_hip1,", lines[27]);
        Assert.StartsWith("reward,", lines[31]);
        var back = DemonstrationFile.Read(path);
        Assert.Equal(2, back.Steps);
        Assert.Equal("4", back.Metadata["seed"]);
        for (int t = 0; t < 2; t++)
        {
            Assert.Equal(d.Observations[t], back.Observations[t]);
            Assert.Equal(d.Actions[t], back.Actions[t]);
        }
        Assert.Equal(d.Rewards, back.Rewards);
        // Without the reward row (a demonstration brought from elsewhere) it still reads.
        File.WriteAllLines(path, lines[..^1]);
        Assert.Null(DemonstrationFile.Read(path).Rewards);
    }

    [Theory]
    [InlineData(4, "obs_hull_angle,0,x", "line 4, field 3: 'x' is not a finite number")]
    [InlineData(5, "hull_angular_velocity,0,1", "line 5, field 1: row 2 must be 'obs_hull_angular_velocity'")]
    [InlineData(3, "variable,0,2", "line 3, field 3: step numbers run 0, 1, 2")]
    [InlineData(28, "act_hip1,0.5,2", "line 28, field 3: act_hip1 at step 1 is 2; actions lie in [-1, 1]")]
    [InlineData(6, "obs_vel_x,1", "line 6: 'obs_vel_x' has 1 values; the header names 2 steps")]
    [InlineData(1, "hello", "line 1: not a demonstration file")]
    public void ABadDemonstrationFileIsReportedWithItsLineAndField(int line, string replacement, string message)
    {
        string path = Path.Combine(CliHarness.TempDir(), "bad.csv");
        DemonstrationFile.Write(path, Small());
        var lines = File.ReadAllLines(path);
        lines[line - 1] = replacement;
        File.WriteAllLines(path, lines);
        var e = Assert.Throws<FormatException>(() => DemonstrationFile.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AMissingRowIsNamed()
    {
        string path = Path.Combine(CliHarness.TempDir(), "short.csv");
        DemonstrationFile.Write(path, Small());
        File.WriteAllLines(path, File.ReadAllLines(path)[..20]);
        var e = Assert.Throws<FormatException>(() => DemonstrationFile.Read(path));
        Assert.Contains("obs_lidar3 is missing", e.Message);
    }

    [Fact]
    public void TheSkipAttributeCarriesTheLibrarysReason()
    {
        Assert.Equal(Box2DLibrary.UnavailableReason, new Box2DFactAttribute().Skip);
        if (Box2DLibrary.Available) Assert.Equal(20400, Box2DLibrary.Version / 100 * 100);
        else Assert.StartsWith("Box2D shim not available: install libbox2d-dev and g++ (apt-get install libbox2d-dev g++) and rebuild", Box2DLibrary.UnavailableReason);
    }

    /// <summary>
    /// Without a usable shim the probe names the cause and the fix (runs on every machine: the probe is fed a missing
    /// library, a missing entry point and a wrong Box2D version instead of depending on what is installed here).
    /// </summary>
    [Fact]
    public void WithoutAUsableShimTheProbeSaysWhyAndHowToFixIt()
    {
        var missing = Box2DLibrary.Diagnose(() => throw new DllNotFoundException("Unable to load shared library 'sim_box2d_shim'\nmore"));
        Assert.Equal(0, missing.Version);
        Assert.Equal("Box2D shim not available: install libbox2d-dev and g++ (apt-get install libbox2d-dev g++) and rebuild " +
            "(DllNotFoundException: Unable to load shared library 'sim_box2d_shim')", missing.Reason);
        Assert.Contains("EntryPointNotFoundException", Box2DLibrary.Diagnose(() => throw new EntryPointNotFoundException("sb2_version")).Reason);
        var old = Box2DLibrary.Diagnose(() => 20301);
        Assert.Equal((20301, "Box2D shim not available: it was built against Box2D 2.3.1, not 2.4.x; " + Box2DLibrary.InstallHint), old);
        Assert.Equal((20401, (string?)null), Box2DLibrary.Diagnose(() => 20401));
        Assert.Throws<InvalidOperationException>(() => Box2DLibrary.Diagnose(() => throw new InvalidOperationException("not a loading failure")));
    }

    [Box2DFact]
    public void TheCommandPrintsTheEpisodesAndWritesTheDemonstrations()
    {
        string dir = CliHarness.TempDir();
        var (code, stdout, err) = CliHarness.Sim("task", "bipedal-expert", "--episodes", "2", "--seed", "1", "--threads", "2", "--out", dir);
        Assert.True(code == 0, err);
        Assert.Contains("episode   0: return", stdout);
        Assert.Contains("finished     2 of 2", stdout);
        Assert.Contains("mean return", stdout);
        Assert.True(File.Exists(Path.Combine(dir, "trajectories.png")));
        var d = DemonstrationFile.Read(Path.Combine(dir, "demonstrations", "episode-001.csv"));
        var run = BipedalExpertRun.Run(1, 1);
        Assert.Equal(run.Steps, d.Steps);
        Assert.Equal(run.Demonstration.Actions[^1], d.Actions[^1]);
        Assert.Equal(2, CliHarness.Sim("task", "bipedal-expert", "--render").Code);   // --render needs --out
    }
}
