using FsCheck;
using FsCheck.Fluent;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.Experiments;
using Sim.GpuBridge;
using Sim.Plasticity;
using Sim.Specs.EventCore;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>
/// Button &amp; Food (docs/tasks/button_food.md): the environment's rules and the expert, the Gaussian population code,
/// the step-decay Adam of the authors' code, and the whole cloning protocol bit-identical on both grid engines, in a
/// batch as alone, allocation-free per closed-loop tick.
/// </summary>
public class ButtonFoodTests
{
    private static readonly ButtonFoodGeometry G = new();

    [Fact]
    public void TheExpertUnlocksTheFoodAndReachesItAtEveryTestAngle()
    {
        foreach (double deg in ButtonFoodOptions.Linspace(30, 150, 120))
        {
            double theta = deg * Math.PI / 180;
            var env = new ButtonFoodEnvironment(G, theta);
            var actions = G.ExpertActions(theta);
            double best = 0;
            var obs = new double[4];
            for (int t = 0; t < G.Steps && !env.Reached; t++)
            {
                env.Observe(obs);
                best = Math.Max(best, env.Act(actions[t]).Reward);
                // 0.2/29 per step from action 1 on: within 0.05 of the button after action 22, not before.
                Assert.Equal(t >= 22, env.Unlocked);
            }
            Assert.True(env.Unlocked && env.Reached, $"{deg:F1} deg");
            // The last steps are (target − button)/49 long: the score is 1/d of the first position within 0.03.
            Assert.InRange(best, 1 / G.TargetReach, 60);
        }
        // The authors' expert speeds: (0, −0.6897) to the button, (0, 1.8367) to the food at 90°.
        var a = G.ExpertActions(Math.PI / 2);
        Assert.Equal(0, a[0][1]);
        Assert.Equal(-0.2 / 0.29, a[1][1], 12);
        Assert.Equal(0, a[30][1]);
        Assert.Equal(0.9 / 0.49, a[31][1], 12);
    }

    [Fact]
    public void TheFoodIsLockedUntilTheButtonIsReached()
    {
        var env = new ButtonFoodEnvironment(G, Math.PI / 2);
        // Straight to the food: never unlocked, reward 0 all the way, the episode runs to T.
        EnvironmentStep last = default;
        for (int t = 0; t < G.Steps; t++) { last = env.Act([0, 1.0]); Assert.Equal(0, last.Reward); }
        Assert.True(last.Done);
        Assert.False(env.Unlocked);
        Assert.Throws<InvalidOperationException>(() => env.Act([0, 0]));
        env.Reset(0, 0);
        Assert.Equal(0, env.StepsTaken);
        // Down to the button (unlocked, stays unlocked), then the reward is 1/distance to the food.
        for (int t = 0; t < 20; t++) env.Act([0, -1]);
        Assert.True(env.Unlocked);
        var s = env.Act([0, 0]);
        Assert.Equal(1 / (0.7 + 0.2), s.Reward, 10);
        var obs = new double[4];
        env.Observe(obs);
        Assert.Equal([0, 0.9, 0, 0], obs.Select(x => Math.Round(x, 12)).ToArray());
    }

    [Fact]
    public void TheGaussianCodeHasItsBumpsOnALinspaceAndClipsTheInput()
    {
        var code = new GaussianPopulationCode(2, 20);
        Assert.Equal(0.1, code.Width, 15);
        var f = new double[40];
        code.Encode([-1, 5], f);                            // x on the first centre, y clipped to 1 (the last centre)
        Assert.Equal(1.0, f[0]);
        Assert.Equal(Math.Exp(-0.5 * Math.Pow((2.0 / 19) / 0.1, 2)), f[1], 15);
        Assert.Equal(1.0, f[39]);
        Assert.Equal(Math.Exp(-0.5 * Math.Pow((2.0 / 19) / 0.1, 2)), f[38], 15);
        Assert.Throws<ArgumentException>(() => code.Encode([0], f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianPopulationCode(2, 1));
    }

    /// <summary>The vectorised encoder forms the currents with the same operations as the documented scalar order (bit for bit).</summary>
    [Fact]
    public void TheEncoderEqualsTheScalarCurrentsBitForBit()
    {
        var bf = new ButtonFood(Small(4, n: 37));
        var net = NetworkCompiler.Compile(bf.BuildNetwork(null, 1));
        var code = new GaussianPopulationCode(4);
        var enc = new GaussianPopulationEncoder(net, ButtonFood.Pop, code, bf.InputWeights);
        var rng = new Random(9);
        var current = new double[37];
        var inputs = new Inputs(current);
        for (int trial = 0; trial < 50; trial++)
        {
            double[] obs = [rng.NextDouble() * 3 - 1.5, rng.NextDouble() * 2 - 1, rng.NextDouble() - 0.5, rng.NextDouble() * 4 - 2];
            enc.Encode(obs, inputs);
            var f = new double[code.Features];
            code.Encode(obs, f);
            var expected = new double[37];
            LinearCurrentEncoder.Apply(bf.InputWeights, [], f, expected);
            Assert.True(ReferenceModelTests.SameBits(expected, current), $"observation {trial}");
        }
    }

    private sealed class Inputs(double[] current) : ITickInputs
    {
        public Span<double> Current(int population) => current;
    }

    [Fact]
    public void AdamDecaysItsRateBeforeEveryKthStep()
    {
        var adam = new Adam(LearningRate.Fixed(0.01), decayEvery: 3, decayFactor: 0.5);
        var w = new double[1];
        var etas = new List<double>();
        for (int k = 0; k < 7; k++) { adam.Step(w, [1.0]); etas.Add(adam.CurrentEta); }
        Assert.Equal([0.01, 0.01, 0.005, 0.005, 0.005, 0.0025, 0.0025], etas);
        // With d = 1 every step, m̂ = v̂ = 1: each step moves w by η/(1 + ε), so w is the sum of the rates used.
        Assert.Equal(0.01 * 2 / (1 + 1e-8) + 0.005 * 3 / (1 + 1e-8) + 0.0025 * 2 / (1 + 1e-8), w[0], 12);
        var state = adam.Capture();
        var other = new Adam(LearningRate.Fixed(0.01), decayEvery: 3, decayFactor: 0.5);
        other.Restore(state);
        Assert.Equal(adam.CurrentEta, other.CurrentEta);
    }

    private static ButtonFoodOptions Small(ulong seed, int n = 24) => new()
    {
        Neurons = n, Epochs = 3, ReadoutEpochs = 20, Seed = seed, TestAnglesDeg = ButtonFoodOptions.Linspace(30, 150, 5),
        TrainAnglesDeg = [60, 90, 120], InputSd = 8,
    };

    private static void SameResult(ButtonFoodResult a, ButtonFoodResult b, string what)
    {
        Assert.Equal(a.Ranks.Length, b.Ranks.Length);
        for (int k = 0; k < a.Ranks.Length; k++)
        {
            Assert.True(ReferenceModelTests.SameBits(a.Ranks[k].Scores, b.Ranks[k].Scores), $"{what}: scores of R = {a.Ranks[k].Rank}");
            Assert.True(ReferenceModelTests.SameBits(a.Ranks[k].DeltaS, b.Ranks[k].DeltaS), $"{what}: dS of R = {a.Ranks[k].Rank}");
            Assert.Equal(a.Ranks[k].ReadoutMse, b.Ranks[k].ReadoutMse);
            Assert.True(ReferenceModelTests.SameBits(a.Ranks[k].RecurrentWeights, b.Ranks[k].RecurrentWeights), $"{what}: J_rec of R = {a.Ranks[k].Rank}");
            Assert.True(ReferenceModelTests.SameBits(a.Ranks[k].Readout, b.Ranks[k].Readout), $"{what}: W_out of R = {a.Ranks[k].Rank}");
            for (int e = 0; e < a.Ranks[k].Paths.Length; e++)
                Assert.True(ReferenceModelTests.SameBits(a.Ranks[k].Paths[e], b.Ranks[k].Paths[e]), $"{what}: path {e} of R = {a.Ranks[k].Rank}");
        }
    }

    /// <summary>
    /// The whole protocol (target spikes, clamped cloning, free replays, closed-loop test) gives the same bits on the
    /// event engine (2 threads) and the dense engine, for random small networks and both feedback forms, and a rank
    /// learnt in a batch with others equals the rank learnt alone.
    /// </summary>
    [Fact]
    public void BothGridEnginesGiveTheSameEpisodesAndABatchEqualsSingles()
    {
        foreach (var (seed, feedback) in new[] { (3UL, CloningFeedback.Diagonal), (8UL, CloningFeedback.Random) })
        {
            var o = Small(seed) with { Feedback = feedback, Clamp = feedback == CloningFeedback.Diagonal };
            int[] ranks = [1, 7, 24];
            var ev = new ButtonFood(o, net => new EventEngine(net, new EngineOptions { Threads = 2 })).Run(ranks);
            var dn = new ButtonFood(o, net => new DenseEngine(net)).Run(ranks);
            SameResult(ev, dn, $"{feedback}, event vs dense");
            var alone = new ButtonFood(o, net => new EventEngine(net)).Run([7]);
            SameResult(new ButtonFoodResult(o, [ev.Ranks[1]], [], [], [], 0, "", ""), alone, $"{feedback}, batch vs alone");
            // Learning happened and the loop closed: dS of the highest rank fell, the agents moved.
            Assert.True(ev.Ranks[2].DeltaS[^1] < ev.Ranks[2].DeltaS[0], $"dS {ev.Ranks[2].DeltaS[0]} -> {ev.Ranks[2].DeltaS[^1]}");
            Assert.All(ev.Ranks[2].Paths, p => Assert.True(Math.Abs(p[^1]) + Math.Abs(p[^2]) > 0));
        }
    }

    /// <summary>
    /// Property: random small environments (button, food radius, episode length, expert schedule, angles) and networks
    /// (N, ranks, feedback form, clamp) give the same episodes, rewards and weights on the event engine and the dense
    /// engine.
    /// </summary>
    [Fact]
    public void RandomEnvironmentsAndNetworksGiveTheSameBitsOnBothEngines()
        => Sim.Specs.Conformance.Conformance.Check(4, Arb.From(Gen.Choose(1, 1_000_000)), seed =>
        {
            var r = new Random(seed);
            int steps = r.Next(30, 61), n = r.Next(8, 25);
            var geometry = new ButtonFoodGeometry
            {
                Button = (r.NextDouble() * 0.2 - 0.1, -0.1 - 0.2 * r.NextDouble()), TargetRadius = 0.4 + 0.4 * r.NextDouble(),
                Steps = steps, ExpertButtonSteps = r.Next(8, steps / 2), ButtonRadius = 0.03 + 0.04 * r.NextDouble(),
            };
            bool random = r.Next(2) == 0;
            var o = new ButtonFoodOptions
            {
                Neurons = n, Geometry = geometry, Epochs = 2, ReadoutEpochs = 5, Seed = (ulong)seed, InputSd = 4 + 6 * r.NextDouble(),
                TrainAnglesDeg = [.. Enumerable.Range(0, r.Next(2, 4)).Select(_ => 30 + 120 * r.NextDouble())], TestAnglesDeg = [40, 90, 140],
                Feedback = random ? CloningFeedback.Random : CloningFeedback.Diagonal, Clamp = !random && r.Next(3) > 0, TauStarMs = 1 + 9 * r.NextDouble(),
            };
            int[] ranks = [.. new[] { 1, r.Next(2, n), n }.Distinct()];
            var ev = new ButtonFood(o, net => new EventEngine(net, new EngineOptions { Threads = 2 })).Run(ranks);
            var dn = new ButtonFood(o, net => new DenseEngine(net)).Run(ranks);
            SameResult(ev, dn, $"seed {seed}");
            return true.Label($"seed {seed}");
        });

    /// <summary>With the clamp, a clamped neuron's spikes in the cloning trials are its target spikes (ΔS counts its own prediction).</summary>
    [Fact]
    public void ClampingChangesCloningAndTheExpertScoresAreReported()
    {
        var o = Small(5);
        var clamped = new ButtonFood(o).Run([12]);
        var free = new ButtonFood(o with { Clamp = false }).Run([12]);
        Assert.False(ReferenceModelTests.SameBits(clamped.Ranks[0].DeltaS, free.Ranks[0].DeltaS));
        Assert.Equal(5, clamped.ExpertScores.Length);
        Assert.All(clamped.ExpertScores, s => Assert.True(s > 1 / G.TargetReach));
        Assert.Throws<ArgumentException>(() => new ButtonFood(o with { Feedback = CloningFeedback.Random }));   // random + clamp refused
        Assert.Throws<ArgumentException>(() => new ButtonFood(o).Run([25]));                                     // R > N
    }

    /// <summary>A closed-loop Button &amp; Food episode (encoder, engine step, readout, environment) allocates nothing per tick.</summary>
    [Fact]
    public void AClosedLoopEpisodeAllocatesNothingPerTick()
    {
        var o = Small(2, n: 40);
        var bf = new ButtonFood(o);
        var net = NetworkCompiler.Compile(bf.BuildNetwork(bf.InitialRecurrentWeights(), 1));
        using var engine = new EventEngine(net, new EngineOptions { Threads = 1 });
        var code = new GaussianPopulationCode(4);
        var readout = Enumerable.Range(0, 80).Select(k => (k % 7 - 3) * 0.5).ToArray();
        var task = new ClosedLoopTask("bf", 80, 1, _ => new ButtonFoodEnvironment(G, 1.2), _ => new GaussianPopulationEncoder(net, ButtonFood.Pop, code, bf.InputWeights),
            _ => new FilteredSpikeReadout(net, ButtonFood.Pop, 10, readout));
        _ = new TrialProtocol(engine, task);
        engine.ResetState();
        task.BeginTrial(0);
        engine.Run(10);   // warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        engine.Run(60);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
