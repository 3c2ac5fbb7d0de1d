using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Specs.Reference;
using Xunit;
using Xunit.Abstractions;
using static Sim.Specs.Precise.PreciseTestSupport;

namespace Sim.Specs.Precise;

/// <summary>
/// Grid-engine spike times converge to the precise ones as dt → 0. A grid spike detected in step t (state advanced to
/// (t + 1)·dt) is placed at (t + 1)·dt, the end of the step in which the crossing happened; every spike can be late by
/// up to one step and, through the grid refractoriness, the lateness accumulates, so the error is first order in dt.
/// Observed: the log–log slope of the maximum error over the first spikes is ≈ 1 (asserted within [0.8, 1.25]).
/// </summary>
public class PreciseConvergenceTests(ITestOutputHelper output)
{
    private static readonly double[] Dts = [0.1, 0.05, 0.025, 0.0125, 0.00625];

    public static TheoryData<string> Cases => ["lif_delta drive", "lif_exp drive + inputs"];

    private static NetworkSpec Spec(string name, double dt)
    {
        NetworkSpec s = name == "lif_delta drive"
            ? Neuron(new LifDeltaParameters { TauMemMs = 10, ELeakMv = -65, VThresholdMv = -50, VResetMv = -70, RefractoryMs = 2, IExtMvPerMs = 2 }, [], [], dt: dt)
            : Neuron(new LifExpParameters { TauMemMs = 20, TauExcMs = 5, TauInhMs = 10, ELeakMv = -60, VThresholdMv = -50, VResetMv = -65, RefractoryMs = 2, IExtMv = 14 },
                [5.0, 12.5, 30.0, 31.0, 60.0], [3.0, 2.0, -4.0, 6.0, 5.0], delayMs: 0.5, dt: dt);
        return s;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GridSpikeTimesConvergeLinearlyToThePreciseOnes(string name)
    {
        const double duration = 300;
        var precise = Spikes(Spec(name, 0.1), duration);
        Assert.True(precise.Length >= 4, $"only {precise.Length} precise spikes");
        int count = Math.Min(8, precise.Length - 1);
        var errors = new List<double>();
        foreach (double dt in Dts)
        {
            var net = NetworkCompiler.Compile(Spec(name, dt));
            using var engine = new EventEngine(net);
            var rec = new SpikeRecorder();
            engine.AddSpikeSink(rec);
            engine.Run(TimeGrid.Ticks(duration, dt));
            var grid = rec.Of(0).Where(s => s.Neuron == 0).Select(s => (s.Tick + 1) * dt).ToArray();
            Assert.True(grid.Length >= count, $"dt = {dt}: {grid.Length} grid spikes");
            double err = Enumerable.Range(0, count).Max(k => Math.Abs(grid[k] - precise[k]));
            errors.Add(err);
            output.WriteLine($"{name}: dt = {dt}: max |Δt| over {count} spikes = {err:E3} ms");
        }
        // Least-squares slope of log err against log dt.
        var x = Dts.Select(v => Math.Log(v)).ToArray();
        var y = errors.Select(v => Math.Log(v)).ToArray();
        double mx = x.Average(), my = y.Average();
        double slope = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my)) / x.Sum(v => (v - mx) * (v - mx));
        output.WriteLine($"{name}: observed order {slope:F3}");
        Assert.InRange(slope, 0.8, 1.25);
        Assert.True(errors[^1] < errors[0] / 8, "16× finer grid must shrink the error well below 1/8");
        Assert.True(errors[^1] <= count * Dts[^1] * 2, "error bounded by the accumulated step");
    }
}
