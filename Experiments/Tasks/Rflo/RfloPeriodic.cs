using System.Diagnostics;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>Options of RFLO's periodic-output task (docs/tasks/rflo.md; model notes §4.5).</summary>
public sealed record RfloPeriodicOptions
{
    /// <summary>N, recurrent units (model notes: 30–50).</summary>
    public int Neurons { get; init; } = 30;
    /// <summary>τ in steps of dt = 1 ms (model notes: 10).</summary>
    public int TauSteps { get; init; } = 10;
    /// <summary>The target period in units of τ (model notes: 20τ–160τ); one trial is one period.</summary>
    public int PeriodTau { get; init; } = 20;
    /// <summary>Trials (iterations) of learning.</summary>
    public int Iterations { get; init; } = 1000;
    /// <summary>Seed of every draw (network, B, W_out).</summary>
    public int Seed { get; init; } = 1;
    /// <summary>g of W_rec ~ g·N(0, 1)/√N (model notes: 1.5).</summary>
    public double Gain { get; init; } = 1.5;
    /// <summary>η_rec (the authors' example code: 0.1).</summary>
    public double EtaRec { get; init; } = 0.1;
    /// <summary>η_out (the authors' example code: 0.1).</summary>
    public double EtaOut { get; init; } = 0.1;

    /// <summary>Ticks per trial: T = PeriodTau·TauSteps.</summary>
    public int Steps => PeriodTau * TauSteps;

    /// <summary>Checks the options; the message names the option.</summary>
    public void Validate()
    {
        if (Neurons is < 2 or > 2000) throw new ArgumentException($"neurons: must lie in [2, 2000], got {Neurons}");
        if (TauSteps is < 1 or > 1000) throw new ArgumentException($"tau: must lie in [1, 1000] steps, got {TauSteps}");
        if (PeriodTau is < 1 or > 10000) throw new ArgumentException($"period: must lie in [1, 10000] tau, got {PeriodTau}");
        if (Iterations < 0) throw new ArgumentException($"iterations: must be >= 0, got {Iterations}");
        if (!(Gain >= 0) || !double.IsFinite(Gain)) throw new ArgumentException($"gain: must be finite and >= 0, got {Gain}");
        if (!(EtaRec >= 0) || !double.IsFinite(EtaRec)) throw new ArgumentException($"eta-rec: must be finite and >= 0, got {EtaRec}");
        if (!(EtaOut >= 0) || !double.IsFinite(EtaOut)) throw new ArgumentException($"eta-out: must be finite and >= 0, got {EtaOut}");
    }
}

/// <summary>The curves of one run.</summary>
/// <param name="Loss">Per iteration: the trial's MSE Σ_t Σ_o ε²/(T·N_out) (before that trial's update).</param>
/// <param name="Alignment">Per iteration: cos ∠(W_out, Bᵀ) after the trial's update.</param>
/// <param name="UntrainedLoss">The MSE of the network with its initial weights (no learning).</param>
/// <param name="Output">y of the last trial, per tick.</param>
/// <param name="Target">y* per tick.</param>
/// <param name="Seconds">Wall time of the learning run.</param>
/// <param name="Failure">Why learning stopped early (e.g. a weight left the grid), or null.</param>
public sealed record RfloPeriodicResult(double[] Loss, double[] Alignment, double UntrainedLoss, double[] Output, double[] Target, double Seconds, string? Failure);

/// <summary>
/// RFLO's periodic-output task (Murray 2019, eLife 8:e43299, Fig. 2; model notes §4.5; docs/tasks/rflo.md): a
/// <c>rate_tanh</c> network of N units with τ = 10 steps and W_rec ~ g·N(0, 1)/√N learns, with the RFLO rule
/// (<see cref="RfloRule"/>), to produce one period of y*(t) = sin(2πt/T) + 0.5·sin(4πt/T) + 0.25·sin(8πt/T) as its
/// readout y = W_out·h; each trial is one period from the same initial state, W_rec and W_out change at its end.
/// The network gets a constant (tonic) input i_ext ~ U(−0.1, 0), fixed; W_in is not learned.
/// </summary>
public static class RfloPeriodic
{
    /// <summary>y*(t) for t = 0 … T−1.</summary>
    public static double[] Target(int steps)
        => [.. Enumerable.Range(0, steps).Select(t =>
        {
            double x = 2 * Math.PI * t / steps;
            return Math.Sin(x) + 0.5 * Math.Sin(2 * x) + 0.25 * Math.Sin(4 * x);
        })];

    /// <summary>The network of <paramref name="o"/>.</summary>
    public static NetworkSpec Network(RfloPeriodicOptions o)
    {
        double s = o.Gain / Math.Sqrt(o.Neurons);
        var b = new NetworkBuilder($"rflo-periodic-{o.Seed}") { Run = new RunOptions { DtMs = 1, DurationMs = o.Steps, Seed = (ulong)o.Seed } };
        b.NeuronGroup("rec", o.Neurons, new RateTanhParameters { TauMs = o.TauSteps, HInit = Value.Uniform(-0.5, 0.5), IExt = Value.Uniform(-0.1, 0), RateFractionBits = 24 });
        b.Synapses("rec", "rec", new Connectivity.AllToAll(Autapses: true), Value.Normal(0, s, -5 * s, 5 * s), projectionName: "w_rec", weightFractionBits: 20);
        return b.Build();
    }

    /// <summary>Runs the task; <paramref name="progress"/> gets (iteration, loss, alignment) after every trial.</summary>
    public static RfloPeriodicResult Run(RfloPeriodicOptions o, Func<CompiledNetwork, ISimulationEngine> engineOf, Action<int, double, double>? progress = null, CancellationToken token = default)
    {
        o.Validate();
        var net = NetworkCompiler.Compile(Network(o));
        var y = Target(o.Steps);
        var target = y.Select(v => new[] { v }).ToArray();
        var b = RfloCell.RandomFeedback((ulong)o.Seed, 0, o.Neurons, 1);
        // W_out ~ 0.1·U(−1, 1)/√N (the authors' example code), from the readout stream.
        ulong key = PlasticityRandom.Key((ulong)o.Seed, PlasticityRandom.RfloReadoutPurpose, 0);
        var wOut = new double[o.Neurons];
        for (int j = 0; j < wOut.Length; j++) wOut[j] = 0.1 * (2 * PlasticityRandom.Uniform(key, j) - 1) / Math.Sqrt(o.Neurons);

        double untrained;
        using (var engine = engineOf(net))
        {
            var rule = new RfloRule(net, "rec", _ => new RfloCell(b, wOut, target, 0, 0));
            engine.AddPlasticityRule(rule);
            engine.ResetState(); engine.Run(o.Steps); engine.EndTrial();
            untrained = rule.Instances[0].Losses[^1];
        }
        var loss = new List<double>(); var align = new List<double>();
        var output = new double[o.Steps];
        string? failure = null;
        var clock = Stopwatch.StartNew();
        using (var engine = engineOf(net))
        {
            var rule = new RfloRule(net, "rec", _ => new RfloCell(b, wOut, target, o.EtaRec, o.EtaOut));
            engine.AddPlasticityRule(rule);
            var learner = rule.Instances[0];
            for (int it = 0; it < o.Iterations && !token.IsCancellationRequested; it++)
            {
                try
                {
                    engine.ResetState();
                    if (it == o.Iterations - 1)
                        for (int t = 0; t < o.Steps; t++) { engine.Run(1); output[t] = learner.Core.Output[0]; }
                    else engine.Run(o.Steps);
                    engine.EndTrial();
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException)
                {
                    failure = $"iteration {it}: {e.Message}";
                    break;
                }
                double l = learner.Losses[^1];
                if (!double.IsFinite(l)) { failure = $"iteration {it}: the loss is {l}"; break; }
                loss.Add(l); align.Add(learner.Core.Alignment());
                progress?.Invoke(it, l, align[^1]);
            }
        }
        return new RfloPeriodicResult([.. loss], [.. align], untrained, output, y, clock.Elapsed.TotalSeconds, failure);
    }
}
