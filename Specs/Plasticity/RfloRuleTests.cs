using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.EventCore.Plasticity;
using Sim.Plasticity;
using Xunit;

namespace Sim.Specs.Plasticity;

/// <summary>RFLO (docs/rules/rflo.md) against a naive transcription of its equations, alone and inside the engine.</summary>
public class RfloRuleTests
{
    /// <summary>
    /// A plain transcription of docs/rules/rflo.md on dense N×N arrays (p[i, j] for the synapse j → i), in the order of
    /// operations the page states, so that it must agree bit for bit.
    /// </summary>
    private sealed class Naive(int n, int m, double[] leak, double[,] b, double[,] wOut, double etaRec, double etaOut)
    {
        public readonly double[,] P = new double[n, n], AccRec = new double[n, n], AccOut = new double[m, n], WOut = (double[,])wOut.Clone();
        public double[] HPrev = new double[n];
        public int T;
        public double Sq;

        public void Step(double[] h, double[] psi, double[] target)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) P[i, j] = (1.0 - leak[i]) * P[i, j] + leak[i] * (psi[i] * HPrev[j]);
            var eps = new double[m];
            double sq = 0;
            for (int o = 0; o < m; o++)
            {
                double y = 0.0;
                for (int j = 0; j < n; j++) y += WOut[o, j] * h[j];
                eps[o] = target[o] - y;
                sq += eps[o] * eps[o];
            }
            Sq += sq;
            var e = new double[n];
            for (int i = 0; i < n; i++)
                for (int o = 0; o < m; o++) e[i] += b[i, o] * eps[o];
            for (int o = 0; o < m; o++)
                for (int j = 0; j < n; j++) AccOut[o, j] += eps[o] * h[j];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) AccRec[i, j] += e[i] * P[i, j];
            HPrev = (double[])h.Clone();
            T++;
        }

        public void EndTrial(double[,] wRec)
        {
            for (int o = 0; o < m; o++)
                for (int j = 0; j < n; j++) WOut[o, j] = AccOut[o, j] * (etaOut / T) + WOut[o, j];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) wRec[i, j] = AccRec[i, j] * (etaRec / T) + wRec[i, j];
        }
    }

    private static double Psi(double u) { double t = FixedTanh.Of(u); return 1.0 - t * t; }

    [Fact]
    public void UpdateEqualsNaiveTranscriptionBitForBit()
    {
        const int n = 11, m = 2, steps = 37;
        var rng = new Random(5);
        var leak = Enumerable.Range(0, n).Select(_ => 0.05 + 0.9 * rng.NextDouble()).ToArray();
        var b = new double[n, m]; var bFlat = new double[n * m];
        var wOut = new double[m, n]; var wOutFlat = new double[m * n];
        for (int i = 0; i < n; i++) for (int o = 0; o < m; o++) b[i, o] = bFlat[i * m + o] = rng.NextDouble() * 2 - 1;
        for (int o = 0; o < m; o++) for (int j = 0; j < n; j++) wOut[o, j] = wOutFlat[o * n + j] = rng.NextDouble() - 0.5;
        // Synapses in a shuffled order, all N² of them (autapses included).
        var pairs = Enumerable.Range(0, n * n).OrderBy(_ => rng.Next()).ToArray();
        var pre = pairs.Select(x => x % n).ToArray();
        var post = pairs.Select(x => x / n).ToArray();
        var wRec = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) wRec[i, j] = rng.NextDouble() - 0.5;
        var w0 = pairs.Select(x => wRec[x / n, x % n]).ToArray();
        var update = new RfloUpdate(n, pre, post, leak, bFlat, wOutFlat, w0, 0.7, 0.3);
        var naive = new Naive(n, m, leak, b, wOut, 0.7, 0.3);
        for (int trial = 0; trial < 2; trial++)
        {
            var h0 = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
            update.StartTrial(h0);
            naive.HPrev = h0; naive.T = 0; naive.Sq = 0;
            Array.Clear(naive.P); Array.Clear(naive.AccRec); Array.Clear(naive.AccOut);
            for (int t = 0; t < steps; t++)
            {
                var h = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
                var psi = Enumerable.Range(0, n).Select(_ => Psi((rng.NextDouble() - 0.5) * 6)).ToArray();
                var target = Enumerable.Range(0, m).Select(_ => rng.NextDouble() - 0.5).ToArray();
                update.Step(h, psi, target);
                naive.Step(h, psi, target);
                for (int k = 0; k < pairs.Length; k++) Assert.Equal(naive.P[post[k], pre[k]], update.EligibilityP[k]);
            }
            double sq = naive.Sq;
            Assert.True(update.EndTrial());
            naive.EndTrial(wRec);
            Assert.Equal(sq / (steps * m), update.LastTrialLoss);
            for (int k = 0; k < pairs.Length; k++) Assert.Equal(wRec[post[k], pre[k]], update.Recurrent[k]);
            for (int o = 0; o < m; o++) for (int j = 0; j < n; j++) Assert.Equal(naive.WOut[o, j], update.Readout[o * n + j]);
        }
    }

    private static NetworkSpec Network(int n, int steps, double g)
    {
        var b = new NetworkBuilder("rflo") { Run = new RunOptions { DtMs = 1, DurationMs = steps, Seed = 3 } };
        b.NeuronGroup("rec", n, new RateTanhParameters { TauMs = 4, HInit = Value.Uniform(-0.5, 0.5), IExt = Value.Uniform(-0.2, 0.2), RateFractionBits = 20 });
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: true), Value.Normal(0, g / Math.Sqrt(n), -3 * g / Math.Sqrt(n), 3 * g / Math.Sqrt(n)), projectionName: "w_rec", weightFractionBits: 24);
        return b.Build();
    }

    /// <summary>
    /// End to end on the event engine: within a trial W_rec is constant, so the trial's h and u are those of a run
    /// without the rule; the naive transcription fed with them (ψ = 1 − tanh² u with the model's tanh) gives the
    /// rule's W_out bit for bit and its W_rec after rounding onto the projection's grid 2^-24.
    /// </summary>
    [Fact]
    public void PlasticTrialMatchesNaiveTranscriptionOnTheEngine()
    {
        const int n = 9, m = 2, steps = 50;
        var net = NetworkCompiler.Compile(Network(n, steps, 1.5));
        var view = new PlasticityBinding(net).Projection("w_rec");
        var w0 = PlasticityBinding.CompiledWeights(net, "w_rec");
        var target = Enumerable.Range(0, steps).Select(t => new[] { Math.Sin(t / 4.0), 0.5 * Math.Cos(t / 7.0) }).ToArray();
        var bFlat = RfloCell.RandomFeedback(9, 0, n, m);
        var wOutFlat = RfloCell.RandomReadout(9, 0, n, m);

        using var plain = new EventEngine(net, new EngineOptions { Threads = 1 });
        var hs = new List<double[]>(); var us = new List<double[]>();
        var h0 = plain.GetVariable(0, "rec", "h");
        for (int t = 0; t < steps; t++)
        {
            plain.Run(1);
            hs.Add(plain.GetVariable(0, "rec", "h"));
            us.Add(plain.GetVariable(0, "rec", "u"));
        }

        using var engine = new EventEngine(net, new EngineOptions { Threads = 1 });
        var rule = new RfloRule(net, "rec", _ => new RfloCell(bFlat, wOutFlat, target, 0.8, 0.4));
        engine.AddPlasticityRule(rule);
        engine.Run(steps);
        engine.EndTrial();

        var leak = Enumerable.Repeat(1.0 / 4, n).ToArray();
        var b = new double[n, m]; var wOut = new double[m, n];
        for (int i = 0; i < n; i++) for (int o = 0; o < m; o++) b[i, o] = bFlat[i * m + o];
        for (int o = 0; o < m; o++) for (int j = 0; j < n; j++) wOut[o, j] = wOutFlat[o * n + j];
        var naive = new Naive(n, m, leak, b, wOut, 0.8, 0.4) { HPrev = h0 };
        for (int t = 0; t < steps; t++) naive.Step(hs[t], us[t].Select(Psi).ToArray(), target[t]);
        var wRec = new double[n, n];
        for (int k = 0; k < view.Count; k++) wRec[view.Post[k], view.Pre[k]] = w0[k];
        naive.EndTrial(wRec);

        var core = rule.Instances[0].Core;
        for (int o = 0; o < m; o++) for (int j = 0; j < n; j++) Assert.Equal(naive.WOut[o, j], core.Readout[o * n + j]);
        var written = engine.GetWeights(0, "w_rec");
        double scale = Math.ScaleB(1.0, 24);
        bool changed = false;
        for (int k = 0; k < view.Count; k++)
        {
            double expected = Math.Round(wRec[view.Post[k], view.Pre[k]] * scale, MidpointRounding.ToEven) / scale;
            Assert.Equal(expected, written[k]);
            changed |= written[k] != w0[k];
        }
        Assert.True(changed, "the trial should change W_rec");
        Assert.Single(rule.Instances[0].Losses);
    }

    [Fact]
    public void RefusesAModelThatIsNotRateTanhAndATargetOfTheWrongWidth()
    {
        var b = new NetworkBuilder("x") { Run = new RunOptions { DtMs = 1, DurationMs = 8 } };
        b.NeuronGroup("rec", 4, new GoalLifParameters());
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: false), 0.0, weightFractionBits: 20);
        var lif = NetworkCompiler.Compile(b.Build());
        Assert.Contains("rate_tanh", Assert.Throws<ArgumentException>(() => new RfloRule(lif, "rec", _ => null!)).Message);

        var net = NetworkCompiler.Compile(Network(4, 8, 1.0));
        using var engine = new EventEngine(net);
        var rule = new RfloRule(net, "rec", _ => new RfloCell(new double[4], new double[4], [[1.0, 2.0]], 1, 1));
        Assert.Contains("1 values", Assert.Throws<ArgumentException>(() => engine.AddPlasticityRule(rule)).Message);
    }
}
