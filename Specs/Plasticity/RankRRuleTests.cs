using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.Plasticity;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>The rank-R rule (docs/rules/rank_r.md) against a naive transcription, alone and inside the engine.</summary>
public class RankRRuleTests
{
    private const int F = 20;

    /// <summary>A plain transcription of docs/rules/rank_r.md step 4 on dense arrays (the reduction D·err with j ascending).</summary>
    private sealed class NaiveRule(int n, double[,] d, double alpha, double eta)
    {
        public readonly double[] S = new double[n];
        public readonly double[,] W = new double[n, n];

        public void Step(double[] z, double[] v, double[] ej, double[] sStar)
        {
            for (int i = 0; i < n; i++) S[i] = alpha * S[i] + (1 - alpha) * z[i];
            var err = new double[n];
            for (int j = 0; j < n; j++) err[j] = sStar[j] - S[j];
            var dErr = new double[n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) dErr[i] += d[i, j] * err[j];
            var p = new double[n];
            for (int i = 0; i < n; i++) p[i] = SigmoidPseudoDerivative.Of(v[i]);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (i != j) W[i, j] += eta * (dErr[i] * p[i] * ej[j]);
            for (int i = 0; i < n; i++) W[i, i] = 0;
        }

        public long Q(int i, int j) => (long)Math.Round(W[i, j] * Math.Pow(2, F), MidpointRounding.ToEven);
    }

    [Fact]
    public void UpdateEqualsNaiveTranscriptionBitForBit()
    {
        const int n = 17, steps = 40;
        var rng = new Random(7);
        var dFlat = new double[n * n];
        var d = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) d[i, j] = dFlat[i * n + j] = rng.NextDouble() * 2 - 1;
        var rate = LearningRate.Fixed(0.37);
        var rule = new RankRUpdate(n, dFlat, 1.0, 4.64, new Sgd(rate), F);
        var naive = new NaiveRule(n, d, rule.Filter.Alpha, rate.Eta);
        for (int t = 0; t < steps; t++)
        {
            var z = new double[n]; var v = new double[n]; var ej = new double[n]; var s = new double[n];
            for (int i = 0; i < n; i++)
            {
                z[i] = rng.NextDouble() < 0.3 ? 1 : 0;
                v[i] = (rng.NextDouble() - 0.5) * 12;
                ej[i] = Math.Round(rng.NextDouble() * (1 << 20)) / (1 << 20);
                s[i] = rng.NextDouble();
            }
            rule.Update(z, [.. v.Select(SigmoidPseudoDerivative.Of)], ej, s);
            naive.Step(z, v, ej, s);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(naive.S[i], rule.Filter.Value[i]);
                for (int j = 0; j < n; j++)
                {
                    Assert.Equal(naive.W[i, j], rule.Weights[i * n + j]); // exact float64 (xunit's double Equal is exact)
                    Assert.Equal(naive.Q(i, j), rule.GridWeights[i * n + j]);
                }
            }
        }
        Assert.Contains(rule.GridWeights.ToArray(), q => q != 0);
    }

    [Fact]
    public void PseudoDerivativeTableIsCloseToTheLogisticFormula()
    {
        for (double v = -70; v <= 70; v += 0.0137)
        {
            double s = 1 / (1 + Math.Exp(-v));
            Assert.True(Math.Abs(SigmoidPseudoDerivative.Of(v) - s * (1 - s)) <= 5e-5, $"v = {v}");
        }
        Assert.Equal(0.25, SigmoidPseudoDerivative.Of(0));
        Assert.Equal(SigmoidPseudoDerivative.Table[0], SigmoidPseudoDerivative.Of(double.NaN));
    }

    [Fact]
    public void LearningRateScalingsAreRecordedByName()
    {
        Assert.Equal(5 / Math.Sqrt(150), LearningRate.FivePerSqrtN(150).Eta);
        Assert.StartsWith("5/sqrt(N)", LearningRate.FivePerSqrtN(150).Name);
        Assert.Equal(0.05 * Math.Sqrt(150.0 / 19), LearningRate.SqrtNOverR(0.05, 150, 19).Eta);
        Assert.Contains("sqrt(N/R)", LearningRate.SqrtNOverR(0.05, 150, 19).Name);
        Assert.Equal("fixed(0.05)", LearningRate.Fixed(0.05).Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRate.Fixed(0));
    }

    private static NetworkSpec Network(int n, int steps, double[][]? teacher, double[][]? y)
    {
        var b = new NetworkBuilder("plastic") { Run = new RunOptions { DtMs = 1, DurationMs = steps, Seed = 11 } };
        b.NeuronGroup("rec", n, new GoalLifParameters());
        b.Clock("clock", 4, steps / 4);
        b.Synapses("clock", "rec", new Connectivity.AllToAll(), Value.Normal(0, 22), projectionName: "w_in");
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: false), 0.0, projectionName: "w_rec", weightFractionBits: F);
        if (teacher is not null && y is not null)
            for (int k = 0; k < y[0].Length; k++)
                b.Current("rec", Value.PerElement([.. teacher.Select(r => r[k])]), [.. Enumerable.Range(0, steps).Select(t => (double)t)], [.. y.Select(r => r[k])]);
        return b.Build();
    }

    private static double[][] Raster(List<(long Tick, int Neuron)> spikes, int steps, int n)
    {
        var z = Enumerable.Range(0, steps).Select(_ => new double[n]).ToArray();
        foreach (var (t, i) in spikes) z[t][i] = 1;
        return z;
    }

    /// <summary>
    /// End to end: EventEngine + RankRRule against the naive reference loop + the naive rule writing W_rec between ticks:
    /// identical spikes every tick and identical grid weights at the end (the new W_rec acts from the next tick).
    /// </summary>
    [Fact]
    public void PlasticRunMatchesNaiveReferenceSpikeForSpike()
    {
        const int n = 24, steps = 80;
        var rng = new Random(3);
        var y = Enumerable.Range(0, steps).Select(t => new[] { Math.Sin(t / 9.0), Math.Cos(t / 5.0) }).ToArray();
        var teacher = Enumerable.Range(0, n).Select(_ => new[] { (rng.NextDouble() - 0.5) * 16, (rng.NextDouble() - 0.5) * 16 }).ToArray();
        var zStar = Raster(NaiveReference.Run(NetworkCompiler.Compile(Network(n, steps, teacher, y)), steps, 0).Spikes, steps, n);
        Assert.True(zStar.Sum(r => r.Sum()) > 20, "the teacher should make the network spike");
        var sStar = SpikeFilter.FilterTrain(zStar, n, 1.0, 4.64);
        var dFlat = new double[n * n];
        var d = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) d[i, j] = dFlat[i * n + j] = rng.NextDouble() - 0.3;
        var rate = LearningRate.Fixed(40.0);

        var net = NetworkCompiler.Compile(Network(n, steps, null, null));
        using var engine = new EventEngine(net, new EngineOptions { Threads = 1 });
        var rule = new RankRRule(net, "rec", new NeuronSpaceFeedback(dFlat, n), 4.64, new Sgd(rate), sStar);
        engine.AddPlasticityRule(rule);
        var spikes = new List<(long, int)>();
        engine.AddSpikeSink(new Sink(spikes));
        engine.Run(steps);

        var refNet = NetworkCompiler.Compile(Network(n, steps, null, null));
        var naive = new NaiveRule(n, d, rule.Core.Filter.Alpha, rate.Eta);
        var reference = NaiveReference.Run(refNet, steps, 0, (t, state, wRec) =>
        {
            var s = state[0];   // the one population: v, z, hz, ej
            naive.Step(s[GoalLifModel.Z], s[GoalLifModel.V], s[GoalLifModel.Ej], sStar[t]);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) wRec[i, j] = naive.Q(i, j);
        });

        Assert.Equal(reference.Spikes, spikes);
        Assert.NotEqual(NaiveReference.Run(refNet, steps, 0).Spikes, spikes); // the learned weights changed the activity
        // The engine's plastic weights (projection-local order: by target, then source) are the naive rule's grid weights.
        int changed = 0;
        var weights = engine.GetWeights(0, "w_rec");
        int k = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                long q = (long)Math.Round(weights[k++] * Math.Pow(2, F));
                Assert.Equal(naive.Q(i, j), q);
                if (q != 0) changed++;
            }
        Assert.True(changed > n, $"only {changed} weights changed");
        Assert.All(net.TraceSynapses.Q.ToArray(), q => Assert.Equal(0, q));   // the compiled network is untouched
        Assert.True(engine.Timings.Seconds(Phase.Plasticity) > 0);
    }

    private sealed class Sink(List<(long, int)> into) : ISpikeSink
    {
        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons) { foreach (int i in neurons) into.Add((tick, i)); }
    }


    /// <summary>
    /// Per-trial mode: W is constant during the trial; EndTrial applies η·Σ_t d_t (the directions of every tick, summed in
    /// tick order) in one SGD step, with a zero diagonal; a second EndTrial without ticks changes nothing.
    /// </summary>
    [Fact]
    public void PerTrialModeAppliesTheSummedDirectionOnce()
    {
        const int n = 7, ticks = 12;
        var rng = new Random(5);
        var d = new double[n * n];
        for (int k = 0; k < d.Length; k++) d[k] = rng.NextDouble() - 0.5;
        var w0 = new double[n * n];
        for (int k = 0; k < w0.Length; k++) w0[k] = 0.1 * (rng.NextDouble() - 0.5);
        var update = new RankRUpdate(n, d, 1.0, 3.0, new Sgd(LearningRate.Fixed(0.3)), F, w0) { Mode = UpdateMode.PerTrial };
        var before = update.Weights.ToArray();
        var sum = new double[n * n];
        for (int t = 0; t < ticks; t++)
        {
            var z = Enumerable.Range(0, n).Select(_ => rng.Next(3) == 0 ? 1.0 : 0.0).ToArray();
            var v = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
            var ej = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 0.2).ToArray();
            var target = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 0.3).ToArray();
            update.Update(z, [.. v.Select(SigmoidPseudoDerivative.Of)], ej, target);
            Assert.Equal(before, update.Weights.ToArray());
            var dir = update.LastDirection;
            for (int k = 0; k < sum.Length; k++) sum[k] += dir[k];
        }
        Assert.Equal(ticks, update.PendingTicks);
        Assert.Throws<InvalidOperationException>(() => update.Mode = UpdateMode.Online);
        Assert.True(update.EndTrial());
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double expected = i == j ? 0 : sum[i * n + j] * 0.3 + before[i * n + j];
                Assert.Equal(expected, update.Weights[i * n + j]);
            }
        var after = update.Weights.ToArray();
        Assert.False(update.EndTrial());   // nothing pending: no step
        Assert.Equal(after, update.Weights.ToArray());
        Assert.Equal(0, update.PendingTicks);
    }



    [Fact]
    public void EndingATrialWithoutTicksWritesNothing()
    {
        // Per-trial mode with no pending tick: no step and no write, so the weights keep their version (a new version
        // would make the dense engine re-read its device copy for nothing).
        var net = NetworkCompiler.Compile(Network(4, 8, null, null));
        using var engine = new EventEngine(net);
        var rule = new RankRRule(net, "rec", _ => new RankRCell(new NeuronSpaceFeedback(new double[16], 4), 4.64, new Sgd(LearningRate.Fixed(1)),
            [.. Enumerable.Range(0, 8).Select(_ => new double[4])]) { Mode = UpdateMode.PerTrial });
        engine.AddPlasticityRule(rule);
        var plastic = engine.PlasticityOf(0)!;
        long version = plastic.Weights.Version(0);
        engine.EndTrial();
        Assert.Equal(version, plastic.Weights.Version(0));
        engine.Run(8);
        engine.EndTrial();
        Assert.True(plastic.Weights.Version(0) > version);   // one step applied, the rows written
    }

    [Fact]
    public void OneCellServesOneInstanceAndTheProjectionMustBeAllToAllWithoutAutapses()
    {
        var spec = Network(4, 8, null, null);
        var net = NetworkCompiler.Compile(spec with { Run = spec.Run with { Batch = 2 } });
        using var engine = new EventEngine(net);
        var rule = new RankRRule(net, "rec", new double[16], 4.64, new Sgd(LearningRate.Fixed(1)));
        var e = Assert.Throws<InvalidOperationException>(() => engine.AddPlasticityRule(rule));
        Assert.Contains("per-instance cell factory", e.Message);

        var b = new NetworkBuilder("x") { Run = new RunOptions { DtMs = 1, DurationMs = 8 } };
        b.NeuronGroup("rec", 4, new GoalLifParameters());
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: true), 0.0, weightFractionBits: F);
        var withAutapses = NetworkCompiler.Compile(b.Build());
        Assert.Throws<ArgumentException>(() => new RankRRule(withAutapses, "rec", new double[16], 4.64, new Sgd(LearningRate.Fixed(1))));
    }
}
