using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.Specs.EventCore;
using Xunit;

namespace Sim.Specs.Models;

/// <summary>
/// Analytic checks of the theta neuron (docs/models/theta.md): the cosine polynomial against <c>Math.Cos</c>; under a
/// constant I &gt; 0 the period is π·τ/√I, approached with first-order error as dt shrinks; under I &lt; 0 the phase
/// settles at the stable node θ* = −arccos((1 + I)/(1 − I)) without spiking; bad parameters are refused by field.
/// </summary>
public class ThetaModelTests
{
    [Fact]
    public void TheCosinePolynomialMatchesTheLibraryOnTheChart()
    {
        double worst = 0;
        for (int k = -100_000; k <= 100_000; k++)
        {
            double x = Math.PI * k / 100_000;
            worst = Math.Max(worst, Math.Abs(ThetaCosine.Of(x) - Math.Cos(x)));
        }
        Assert.True(worst < 2e-15, $"largest difference {worst:E2}");
    }

    private static List<long> Spikes(double dtMs, double durationMs, double current, double tauMs, double theta0 = 0, Action<EventEngine>? check = null)
    {
        var b = new NetworkBuilder("theta") { Run = new RunOptions { DtMs = dtMs, DurationMs = durationMs } };
        b.NeuronGroup("n", 1, new ThetaParameters { TauMs = tauMs, IExt = current, ThetaRadInit = theta0 });
        var net = NetworkCompiler.Compile(b.Build());
        using var e = new EventEngine(net);
        var run = ReferenceModelTests.Record(e, (long)Math.Round(durationMs / dtMs));
        check?.Invoke(e);
        return [.. run.Spikes[0].Select(s => s.Item1)];
    }

    /// <summary>
    /// τ = 10 ms, I = 0.25: T = π·10/0.5 = 62.83 ms. The mean interval over 2 s (31 periods; the tick labels quantise
    /// each spike time to dt) approaches it: measured relative errors 6.5e-6 at dt = 0.1 ms and 1.3e-6 at dt = 0.01 ms.
    /// </summary>
    [Fact]
    public void TheConstantInputPeriodIsPiTauOverRootI()
    {
        const double Tau = 10, I = 0.25, Duration = 2000;
        double period = Math.PI * Tau / Math.Sqrt(I);
        double Error(double dt)
        {
            var s = Spikes(dt, Duration, I, Tau);
            double mean = (s[^1] - s[0]) * dt / (s.Count - 1);
            return Math.Abs(mean - period) / period;
        }
        double coarse = Error(0.1), fine = Error(0.01);
        Assert.True(coarse < 2e-5, $"relative period error {coarse:E2} at dt = 0.1 ms");
        Assert.True(fine < coarse / 2, $"relative period error {fine:E2} at dt = 0.01 ms vs {coarse:E2} at 0.1 ms");
    }

    [Fact]
    public void ANegativeInputRestsAtTheStableNode()
    {
        const double I = -0.1;
        double node = -Math.Acos((1 + I) / (1 - I));
        var s = Spikes(0.1, 500, I, 10, 0.0, e => Assert.Equal(node, e.GetVariable(0, "n", "theta_rad")[0], 9));
        Assert.Empty(s);
    }

    [Fact]
    public void BadParametersAreRefusedNamingTheField()
    {
        string Yaml(string pars) => $"name: bad\nrun: {{dt_ms: 0.1, duration_ms: 1}}\npopulations:\n  - name: n\n    size: 2\n    model: theta\n    params: {{{pars}}}\n";
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("tau_ms: 0"))).Errors, x => x.Field == "populations[0].params.tau_ms");
        Assert.Contains(Assert.Throws<SpecException>(() => NetworkFile.Parse(Yaml("theta_rad_init: 4"))).Errors, x => x.Field == "populations[0].params.theta_rad_init");
        var dt = Assert.Throws<SpecException>(() => NetworkCompiler.Compile(NetworkFile.Parse(Yaml("tau_ms: 0.05"))));
        Assert.Contains("tau_ms", dt.Message);
        Assert.Contains(Sim.EventCore.Precise.PreciseEngine.Unsupported(NetworkFile.Parse(Yaml(""))), e => e.Message.Contains("theta", StringComparison.Ordinal));
    }
}
