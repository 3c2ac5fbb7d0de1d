using Sim.Experiments;
using Sim.Experiments.Dynamics;
using Sim.Specs.Cli;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>
/// The EBN tracking task (docs/tasks/ebn.md): with the analytic slow weights of the damped oscillator the network's
/// read-out follows the teacher (normalised MSE of about 1 %), keeps tracking after half of the neurons are silenced,
/// fires irregularly; the event and dense engines give the same read-out and spikes bit for bit; a noise level the
/// network cannot absorb is stopped by the rate guard with its reason; options are checked by name.
/// </summary>
public class EbnTaskTests
{
    [Fact]
    public void TheOscillatorIsTrackedAndSurvivesSilencingHalfOfTheNeurons()
    {
        var r = EbnTask.Run(new EbnTaskOptions { DurationS = 1.0, NoiseLevels = [1e-3] });
        // Measured at these options: 0.0121, 0.0236 and 0.0449 (2 s runs, the defaults: 0.0124, 0.0234, 0.0441).
        Assert.True(r.Main.Nmse < 0.025, $"normalised MSE {r.Main.Nmse:G3}");
        Assert.Equal([0, 0.25, 0.5], r.Silencing.Select(c => c.SilencedFraction));
        Assert.True(r.Silencing[1].Nmse < 0.05 && r.Silencing[2].Nmse < 0.08, string.Join(", ", r.Silencing.Select(c => c.Nmse.ToString("G3"))));
        Assert.True(r.Silencing[0].Nmse < r.Silencing[1].Nmse && r.Silencing[1].Nmse < r.Silencing[2].Nmse);
        // The living neurons fire more to make up for the silenced ones.
        Assert.True(r.Silencing[2].SpikesPerNeuronPerS > 1.3 * r.Silencing[0].SpikesPerNeuronPerS);
        Assert.InRange(r.Main.SpikesPerNeuronPerS, 10, 80);
        Assert.InRange(r.Main.MeanCv2, 0.8, 1.3);
        Assert.All(r.Silencing, c => Assert.Null(c.Stop));
        // x̂ follows x: the read-out's correlation with the teacher, per component.
        for (int k = 0; k < 2; k++)
        {
            double[] x = r.X[k][200..], xh = r.XHat[k][200..];
            double mx = x.Average(), mh = xh.Average();
            double c = x.Zip(xh, (a, b) => (a - mx) * (b - mh)).Sum() / Math.Sqrt(x.Sum(a => (a - mx) * (a - mx)) * xh.Sum(b => (b - mh) * (b - mh)));
            Assert.True(c > 0.99, $"component {k}: correlation {c:F4}");
        }
    }

    [Fact]
    public void EventAndDenseEnginesGiveTheSameReadoutAndSpikes()
    {
        var o = new EbnTaskOptions { DurationS = 0.06, WarmupS = 0.01, Neurons = 16, SilencedFractions = [0], NoiseLevels = [1e-3] };
        var ev = EbnTask.Run(o);
        var dense = EbnTask.Run(o with { Engine = "dense" });
        Assert.True(ev.Spikes.Count > 20, $"{ev.Spikes.Count} spikes");
        Assert.Equal(ev.Spikes, dense.Spikes);
        for (int k = 0; k < 2; k++)
            Assert.Equal(ev.XHat[k].Select(BitConverter.DoubleToInt64Bits), dense.XHat[k].Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(ev.Main.Nmse, dense.Main.Nmse);
    }

    [Fact]
    public void NoiseTheNetworkCannotAbsorbIsStoppedByTheGuardWithItsReason()
    {
        var r = EbnTask.Run(new EbnTaskOptions { DurationS = 0.5, SilencedFractions = [0], NoiseLevels = [0.05] });
        var loud = r.Noise[0];
        Assert.NotNull(loud.Stop);
        Assert.Contains("runaway activity", loud.Stop, StringComparison.Ordinal);
        Assert.True(double.IsNaN(loud.Nmse));   // no score for a stopped run, and the reason instead of NaN read-outs
        Assert.Null(r.Main.Stop);
    }

    [Fact]
    public void BadOptionsAreRefusedByName()
    {
        Assert.Contains("error_gain", Assert.Throws<ArgumentException>(() => new EbnTaskOptions { System = "lorenz" }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("unknown system 'duffing'", Assert.Throws<ArgumentException>(() => new EbnTaskOptions { System = "duffing" }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("decoder_norm", Assert.Throws<ArgumentException>(() => new EbnTaskOptions { DecoderNorm = 0 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("lambda_decoder_per_s", Assert.Throws<ArgumentException>(() => new EbnTaskOptions { LambdaDecoderPerS = -1 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("silenced fractions", Assert.Throws<ArgumentException>(() => new EbnTaskOptions { SilencedFractions = [1.0] }.Validate()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSlowWeightsAreTheDecoderProjectionOfAPlusLambdaI()
    {
        var o = new EbnTaskOptions { Neurons = 5 };
        var d = EbnTask.Decoder(o, 2);
        for (int i = 0; i < 5; i++) Assert.Equal(0.03, Math.Sqrt(d[0][i] * d[0][i] + d[1][i] * d[1][i]), 12);
        var w = EbnTask.SlowWeights(LinearSystem.DampedOscillator(), d, 10);
        // Ω_s[i, j] = D_iᵀ(A + λ_d I)D_j with A = [[−4.8, −22.4], [40, 0]].
        double expected = d[0][1] * ((-4.8 + 10) * d[0][3] - 22.4 * d[1][3]) + d[1][1] * (40 * d[0][3] + 10 * d[1][3]);
        Assert.Equal(expected, w[1, 3], 15);
    }

    [Fact]
    public void TheCommandWritesItsTablesAndFigures()
    {
        string dir = Path.Combine(CliHarness.TempDir(), "ebn");
        var (code, output, err) = CliHarness.Sim("task", "ebn", "--duration-s", "0.4", "--silenced", "0,0.5", "--noise-levels", "0.001", "--no-progress", "-o", dir);
        Assert.True(code == 0, output + err);
        Assert.Contains("main run: normalised MSE", output, StringComparison.Ordinal);
        foreach (string f in new[] { "summary.txt", "conditions.csv", "trace.csv", "tracking.png", "phase-plane.png", "raster.png", "isi-cv.png", "silencing.png", "noise.png", "rates.png" })
            Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 100, f);
        Assert.Equal(1 + 2 + 1, File.ReadAllLines(Path.Combine(dir, "conditions.csv")).Length);
        var (bad, _, badErr) = CliHarness.Sim("task", "ebn", "--system", "lorenz");
        Assert.Equal(2, bad);
        Assert.Contains("error_gain", badErr, StringComparison.Ordinal);
        var (stopped, _, stopErr) = CliHarness.Sim("task", "ebn", "--duration-s", "0.3", "--silenced", "0", "--noise-levels", "0.05", "--no-progress", "--no-plot");
        Assert.Equal(1, stopped);
        Assert.Contains("runaway activity", stopErr, StringComparison.Ordinal);
    }
}

/// <summary>
/// The continuous-time EBN (docs/tasks/ebn.md, "Continuous time"): one neuron under a constant drive crosses at the
/// analytic time and resets by 2T; the grid's error, rate and first spikes converge to the continuous network's as dt
/// shrinks.
/// </summary>
public class EbnContinuousTimeTests
{
    [Fact]
    public void OneNeuronCrossesAtTheAnalyticTime()
    {
        // V(t) = (I/λ_V)(1 − e^{−λ_V t}) from 0 reaches T at t* = −ln(1 − λ_V T/I)/λ_V; after the reset V = −T + ... again.
        const double LambdaV = 20, Norm = 0.03, Input = 40;   // D = 0.03, c = 40: I = D·c = 1.2
        var b = new Sim.EventCore.Description.NetworkBuilder("one");
        b.NeuronGroup("e", 1, new Sim.EventCore.Description.EbnParameters { Dimensions = 1, Decoder0 = Norm, LambdaVPerS = LambdaV, LambdaDecoderPerS = 10, Mu = 0 });
        var c = (Sim.EventCore.Models.EbnConstants)Sim.EventCore.Compilation.NetworkCompiler.Compile(b.Build()).Populations[0].Constants;
        var sim = new EbnContinuousTime([[Norm]], c, new double[1, 1]);
        sim.Run(0.2, [Input]);
        double i = Norm * Input, theta = c.Fast.Threshold[0];
        double first = -Math.Log(1 - LambdaV * theta / i) / LambdaV;
        Assert.Equal(first, sim.Spikes[0].TimeS, 12);
        // The second from V = T − 2T = −T: V(t) = a + (−T − a)e^{−λ_V t}, crossing at ln((a + T)/(a − T))/λ_V later.
        double a = i / LambdaV;
        Assert.Equal(first + Math.Log((a + theta) / (a - theta)) / LambdaV, sim.Spikes[1].TimeS, 11);
        Assert.Equal(sim.Spikes.Count, sim.Readout()[0] > 0 ? sim.Spikes.Count : -1);
    }

    [Fact]
    public void TheGridConvergesToContinuousTime()
    {
        var o = new EbnTaskOptions { DurationS = 0.6 };
        var (rows, rate, nmse) = EbnTask.Convergence(o, [0.4, 0.1, 0.025, 0.00625]);
        // The normalised MSE's gap to continuous time shrinks with dt, the rate approaches the continuous one, and at the
        // finest step the first spikes agree one for one (2 s runs: docs/tasks/ebn.md).
        // Measured: gaps 3.4e-3, 7.3e-4, 6e-6, 1.7e-4: first order down to a floor of a few 1e-4, where which of two
        // redundant neurons fires (a sub-tick difference of crossing times) changes the error statistic either way.
        var gaps = rows.Select(r => Math.Abs(r.Nmse - nmse)).ToArray();
        Assert.True(gaps[1] < gaps[0] / 2 && gaps[2] < 3e-4 && gaps[3] < 3e-4, $"gaps {string.Join(", ", gaps.Select(g => g.ToString("E2")))}");
        Assert.True(Math.Abs(rows[^1].SpikesPerNeuronPerS - rate) < 0.05 * rate, $"rate {rows[^1].SpikesPerNeuronPerS} vs {rate}");
        Assert.True(rows[^1].MatchingSpikes > 50, $"{rows[^1].MatchingSpikes} spikes agree at dt = 0.00625 ms");
        Assert.True(rows[^1].ReadoutDistance < rows[0].ReadoutDistance);
        Assert.True(rows[^1].MeanSpikeTimeErrorMs < 0.00625, $"spike time error {rows[^1].MeanSpikeTimeErrorMs} ms");
    }
}
