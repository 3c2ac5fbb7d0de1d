using System.CommandLine;
using System.Globalization;
using System.Text;
using Sim.Cli.Commands;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary>
/// <c>sim task ebn</c>: an efficient balanced network tracking a teacher system (Alemi, Machens, Denève &amp; Slotine
/// 2018; Boerlin, Machens &amp; Denève 2013; docs/tasks/ebn.md) on a grid engine, with the greedy one-spike-at-a-time
/// resolution of the fast coupling; scored under silencing and membrane noise.
/// </summary>
public static class EbnCommand
{
    /// <summary>The definition of <c>sim task ebn</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var d = new EbnTaskOptions();
        var system = SimOptions.Choice("--system", "teacher: linear (the damped oscillator of Alemi et al., slow weights D^T(A + lambda_d I)D computed analytically), van_der_pol or lorenz (these need --error-gain: their slow weights are not learned yet)", d.System, "linear", "van_der_pol", "lorenz");
        var neurons = SimOptions.Neurons(d.Neurons);
        var duration = SimOptions.Positive("--duration-s", FormattableString.Invariant($"simulated seconds per run, the first {d.WarmupS} s not scored (default {d.DurationS})"), "S", d.DurationS);
        var dt = SimOptions.Positive("--tick-ms", FormattableString.Invariant($"length dt of one grid tick in ms (default {d.DtMs})"), "X", d.DtMs);
        var seed = SimOptions.Seed("seed of the decoder, the input, the noise and the silenced neurons (default 1)");
        var engine = SimOptions.Engine("grid engine: event, dense (TorchSharp, cpu) or dense-cuda; the same spikes bit for bit", "event", "dense", "dense-cuda");
        var gain = SimOptions.Positive("--error-gain", "error feedback gain k (1/s): the drive gets k D^T(x - x_hat) (default 0: the network runs on its own slow weights)", "K", 0, allowZero: true);
        var sigma = SimOptions.Positive("--noise-sigma", FormattableString.Invariant($"membrane noise sigma_V of the main run (default {d.NoiseSigma})"), "X", d.NoiseSigma, allowZero: true);
        var silenced = SimOptions.PositiveList("--silenced", "fractions of neurons silenced, each a run, in [0, 1) (default 0,0.25,0.5)", allowZero: true);
        var noise = SimOptions.PositiveList("--noise-levels", "membrane noise levels sigma_V, each a run with nobody silenced (default 0,0.001,0.003,0.01)", allowZero: true);
        var inputSd = SimOptions.Positive("--input-sd", FormattableString.Invariant($"standard deviation of each input component c_k (units of x per second), a new value every {d.InputHoldMs} ms (default {d.InputSd})"), "X", d.InputSd, allowZero: true);
        var continuous = SimOptions.PositiveList("--vs-continuous", "instead of the conditions: the deterministic network (no noise, no feedback) in continuous time against the grid at these steps dt (ms), e.g. 0.4,0.2,0.1,0.05");
        var noProgress = SimOptions.NoProgress();
        var noPlot = SimOptions.NoPlot("the figures");
        var outDir = SimOptions.Out("write DIR/summary.txt, DIR/conditions.csv, DIR/trace.csv and the figures DIR/tracking.png, phase-plane.png, raster.png, isi-cv.png, silencing.png, noise.png, rates.png");
        var cmd = new SimCommand("ebn", "An efficient balanced network (Alemi, Machens, Deneve & Slotine 2018) tracking a teacher system driven by the same input c(t) (docs/tasks/ebn.md): decoder columns of norm 0.03, fast weights -(D^T D + mu lambda_d^2 I) resolved one spike at a time inside each tick, slow weights D^T(A + lambda_d I)D. Prints the normalised MSE of x_hat = D r against x, the spikes per neuron per second and the ISI CV, after silencing a fraction of the neurons and under membrane noise.", """
            Every run uses the same decoder and input; the silenced neurons are a seeded subset (the same for a given
            fraction in every run). A network whose read-out leaves the finite numbers or runs away is stopped by a run
            guard, with the reason in the table.
            Exit codes: 0 ok, 1 a run was stopped by its guard, 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
            """)
        { system, neurons, duration, dt, seed, engine, gain, sigma, inputSd, silenced, noise, continuous, noProgress, noPlot, outDir };
        return cmd.Does(r =>
        {
            var o = d with
            {
                System = r.GetValue(system)!,
                Neurons = r.GetValue(neurons),
                DurationS = r.GetValue(duration),
                DtMs = r.GetValue(dt),
                Seed = r.GetValue(seed) ?? 1,
                Engine = r.GetValue(engine)!,
                ErrorGain = r.GetValue(gain),
                NoiseSigma = r.GetValue(sigma),
                InputSd = r.GetValue(inputSd),
                SilencedFractions = r.GivenValue(silenced) ?? d.SilencedFractions,
                NoiseLevels = r.GivenValue(noise) ?? d.NoiseLevels,
            };
            if (r.GivenValue(continuous) is { } dts) return ExecuteConvergence(o, dts, !r.GetValue(noProgress), r.GetValue(outDir), io.Out, io.Err);
            return Execute(o, !r.GetValue(noProgress), r.GetValue(noPlot), r.GetValue(outDir), io.Out, io.Err);
        });
    }

    /// <summary>Runs the task; returns the exit code.</summary>
    public static int Execute(EbnTaskOptions o, bool progress, bool noPlot, string? outDir, TextWriter stdout, TextWriter stderr)
    {
        try { o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");
        stdout.WriteLine(FormattableString.Invariant(
            $"ebn: {o.System}, N = {o.Neurons}, dt = {o.DtMs} ms, {o.DurationS} s per run ({o.WarmupS} s warm-up), |D_i| = {o.DecoderNorm}, lambda_d = {o.LambdaDecoderPerS}/s, lambda_V = {o.LambdaVPerS}/s, mu = {o.Mu}, k = {o.ErrorGain}/s, seed {o.Seed}, engine {o.Engine}"));
        using var cts = new Interruption();
        EbnResult result;
        try { result = ProgressDisplay.Run(stderr, progress, "ebn", report => EbnTask.Run(o, (f, detail) => report(f, detail), cts.Token)); }
        catch (OperationCanceledException) { stderr.WriteLine("sim: interrupted"); return cts.ExitCode; }
        string summary = Summary(result);
        stdout.Write(summary);
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), summary);
            File.WriteAllText(Path.Combine(outDir, "conditions.csv"), ConditionsCsv(result));
            File.WriteAllText(Path.Combine(outDir, "trace.csv"), TraceCsv(result));
            stdout.WriteLine($"wrote {Path.Combine(outDir, "summary.txt")}, {Path.Combine(outDir, "conditions.csv")}, {Path.Combine(outDir, "trace.csv")}");
            if (!noPlot) foreach (var path in EbnPlots.All(result, outDir)) stdout.WriteLine($"wrote {path}");
        }
        var stopped = result.Silencing.Concat(result.Noise).Append(result.Main).FirstOrDefault(c => c.Stop is not null);
        if (stopped is not null)
        {
            stderr.WriteLine($"sim: a run was stopped: {stopped.Stop}");
            return ExitCodes.Failure;
        }
        return ExitCodes.Ok;
    }

    /// <summary>Runs the comparison with continuous time (<see cref="EbnTask.Convergence"/>); returns the exit code.</summary>
    public static int ExecuteConvergence(EbnTaskOptions o, double[] dtsMs, bool progress, string? outDir, TextWriter stdout, TextWriter stderr)
    {
        try { (o with { NoiseSigma = 0, ErrorGain = 0 }).Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (o.System != "linear") throw new UsageException("--vs-continuous needs --system linear (the deterministic network without error feedback)");
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");
        stdout.WriteLine(FormattableString.Invariant($"ebn vs continuous time: {o.System}, N = {o.Neurons}, {o.DurationS} s, no noise, no feedback, seed {o.Seed}, engine {o.Engine}"));
        using var cts = new Interruption();
        (IReadOnlyList<EbnConvergenceRow> Rows, double Rate, double Nmse) result;
        try { result = ProgressDisplay.Run(stderr, progress, "ebn", report => EbnTask.Convergence(o, dtsMs, (f, detail) => report(f, detail), cts.Token)); }
        catch (OperationCanceledException) { stderr.WriteLine("sim: interrupted"); return cts.ExitCode; }
        var s = new StringBuilder();
        s.AppendLine(FormattableString.Invariant($"continuous time: normalised MSE {result.Nmse:G4}, {result.Rate:F2} spikes per neuron per second"));
        s.AppendLine("   dt (ms)  x_hat distance  first 100 ms  first spikes agreeing  their time error (ms)  spikes/n/s  norm. MSE");
        foreach (var row in result.Rows)
            s.AppendLine(FormattableString.Invariant($"{row.DtMs,10:G4} {row.ReadoutDistance,15:G4} {row.EarlyReadoutDistance,13:G4} {row.MatchingSpikes,22} {row.MeanSpikeTimeErrorMs,22:G4} {row.SpikesPerNeuronPerS,11:F2} {row.Nmse,10:G4}"));
        stdout.Write(s.ToString());
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "continuous.txt"), s.ToString());
            var csv = new StringBuilder("dt_ms,xhat_distance,xhat_distance_first_100ms,matching_spikes,spike_time_error_ms,spikes_per_neuron_per_s,nmse\n");
            foreach (var row in result.Rows) csv.Append(CultureInfo.InvariantCulture, $"{row.DtMs:R},{row.ReadoutDistance:R},{row.EarlyReadoutDistance:R},{row.MatchingSpikes},{row.MeanSpikeTimeErrorMs:R},{row.SpikesPerNeuronPerS:R},{row.Nmse:R}\n");
            File.WriteAllText(Path.Combine(outDir, "continuous.csv"), csv.ToString());
            stdout.WriteLine($"wrote {Path.Combine(outDir, "continuous.txt")}, {Path.Combine(outDir, "continuous.csv")}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>The printed summary: the main run, then the silencing and noise tables.</summary>
    public static string Summary(EbnResult r)
    {
        var s = new StringBuilder();
        static string Row(EbnCondition c) => FormattableString.Invariant(
            $"{c.SilencedFraction * 100,8:F0} % {c.NoiseSigma,10:G3} {c.Nmse,12:G4} {c.SpikesPerNeuronPerS,10:F2} {c.MeanIsiCv,8:F3} {c.MedianIsiCv,8:F3} {c.MeanCv2,8:F3} {c.NeuronsWithIsi,6}  {c.Stop ?? ""}");
        const string Header = "  silenced      sigma    norm. MSE spikes/n/s   ISI CV   median      CV2      n";
        s.AppendLine(FormattableString.Invariant($"engine: {r.Engine}"));
        s.AppendLine(FormattableString.Invariant($"main run: normalised MSE {r.Main.Nmse:G4}, {r.Main.SpikesPerNeuronPerS:F2} spikes per neuron per second, ISI CV mean {r.Main.MeanIsiCv:F3} (median {r.Main.MedianIsiCv:F3}, {r.Main.NeuronsWithIsi} neurons), local CV2 {r.Main.MeanCv2:F3}"));
        s.AppendLine("silencing:");
        s.AppendLine(Header);
        foreach (var c in r.Silencing) s.AppendLine(Row(c));
        s.AppendLine("noise:");
        s.AppendLine(Header);
        foreach (var c in r.Noise) s.AppendLine(Row(c));
        s.AppendLine(FormattableString.Invariant($"time: {r.Seconds:F1} s"));
        return s.ToString();
    }

    private static string ConditionsCsv(EbnResult r)
    {
        var s = new StringBuilder("kind,silenced_fraction,noise_sigma,nmse,spikes_per_neuron_per_s,isi_cv_mean,isi_cv_median,cv2_mean,neurons_with_isi,stop\n");
        foreach (var (kind, list) in new[] { ("silencing", r.Silencing), ("noise", r.Noise) })
            foreach (var c in list)
                s.Append(CultureInfo.InvariantCulture, $"{kind},{c.SilencedFraction:R},{c.NoiseSigma:R},{c.Nmse:R},{c.SpikesPerNeuronPerS:R},{c.MeanIsiCv:R},{c.MedianIsiCv:R},{c.MeanCv2:R},{c.NeuronsWithIsi},\"{c.Stop}\"\n");
        return s.ToString();
    }

    private static string TraceCsv(EbnResult r)
    {
        int dims = r.X.Length;
        var s = new StringBuilder("time_s," + string.Join(',', Enumerable.Range(0, dims).Select(k => $"x{k}")) + "," + string.Join(',', Enumerable.Range(0, dims).Select(k => $"xhat{k}")) + "\n");
        for (int t = 0; t < r.TimesS.Length; t++)
        {
            s.Append(r.TimesS[t].ToString("R", CultureInfo.InvariantCulture));
            for (int k = 0; k < dims; k++) s.Append(',').Append(r.X[k][t].ToString("R", CultureInfo.InvariantCulture));
            for (int k = 0; k < dims; k++) s.Append(',').Append(r.XHat[k][t].ToString("R", CultureInfo.InvariantCulture));
            s.Append('\n');
        }
        return s.ToString();
    }
}
