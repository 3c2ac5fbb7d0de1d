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
