using Sim.Probes.Analysis;
using System.CommandLine;
using System.Globalization;
using Sim.Cli.Commands;
using static Sim.Cli.Formatting;

namespace Sim.Cli;

/// <summary>
/// <c>sim analyze FILE…</c>: statistics of the spikes in one or more <c>run.h5</c> files (any engine), and with two or
/// more files the spike-train distances between them, neuron by neuron (the files must describe the same populations).
/// </summary>
public static class AnalyzeCommand
{
    /// <summary>The definition of <c>sim analyze</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var files = new Argument<string[]>("FILE") { Description = "run.h5 files written by sim run (any engine; docs/output-format.md)", Arity = ArgumentArity.OneOrMore };
        var taus = SimOptions.PositiveList("--tau-ms", "time scales (ms) of the distances (default 1,5,20)");
        var instance = SimOptions.OptionalInt("--instance", "instance compared in every file (default: each file's first instance)", 0, "N");
        var window = SimOptions.Positive("--jitter-window-ms", "largest |Δ| (ms) that counts as a match in the jitter (default 2)", "W", 2, allowZero: true);
        var fano = SimOptions.Positive("--fano-window-ms", FormattableString.Invariant($"Fano factor window (ms, default {SpikeStatistics.DefaultFanoWindowMs})"), "W", SpikeStatistics.DefaultFanoWindowMs);
        var cmd = new SimCommand("analyze", "Spike statistics of run.h5 files: per file and population the spike count, mean rate (Hz), ISI CV and Fano factor (docs/output-format.md, \"Summary definitions\"); with two or more files also the spike-train distances between them, neuron by neuron.", """
            With two or more files (e.g. two trials, two engines or two dt's of one network) it compares them neuron by
            neuron, for every pair of files and every population they share (same name and size):
              van Rossum distance D at each τ (exponential kernel, one extra spike gives 1/√2), mean over neurons;
              Victor–Purpura distance at cost q = 1/τ per ms, mean over neurons;
              spike-time jitter across all files: every spike's nearest spike of the same neuron in every other file,
              counted as matched within the window; mean |Δ| and std Δ of the matches.
            Spikes are compared over [0, shortest duration).
            Exit 2: no file, a missing or unreadable file, files with a population of the same name but another size.
            """) { files, taus, instance, window, fano };
        return cmd.Does(r => Execute(r.GetValue(files) ?? [], r.GivenValue(taus) ?? [1, 5, 20], r.GetValue(instance), r.GetValue(window), r.GetValue(fano), io.Out));
    }

    /// <summary>Analyses <paramref name="paths"/>, prints; returns the exit code.</summary>
    public static int Execute(IReadOnlyList<string> paths, double[] taus, int? instance, double window, double fanoWindow, TextWriter stdout)
    {
        if (paths.Count == 0) throw new UsageException("analyze needs at least one run.h5 file");
        var files = paths.Select(RunFile.Read).ToList();
        int InstanceOf(RunFile f)
        {
            int inst = instance ?? f.FirstInstance;
            if (inst < f.FirstInstance || inst >= f.FirstInstance + f.Batch)
                throw new UsageException($"'{f.Path}' holds instances {f.FirstInstance}..{f.FirstInstance + f.Batch - 1}, not {inst}");
            return inst;
        }

        for (int k = 0; k < files.Count; k++)
        {
            var f = files[k];
            stdout.WriteLine($"[{k + 1}] {f.Path}: network {f.Network}, engine {f.Engine}, dt {Num(f.DtMs)} ms, {(f.StartMs > 0 ? $"{Num(f.StartMs)} to {Num(f.DurationMs)} ms (resumed)" : $"{Num(f.DurationMs)} ms")}, instance {InstanceOf(f)} of {f.Batch}, {f.Status}");
        }
        stdout.WriteLine();
        stdout.WriteLine($"{"file",-6}{"population",-14}{"neurons",9}{"spikes",10}{"rate (Hz)",11}{"ISI CV",9}{"Fano",9}");
        for (int k = 0; k < files.Count; k++)
        {
            var f = files[k];
            foreach (var p in f.Populations)
            {
                var (t, ids) = p.Of(InstanceOf(f));
                var s = SpikeStatistics.Compute(p.Name, p.Size, t, ids, f.DurationMs - f.StartMs, fanoWindow, f.StartMs);
                stdout.WriteLine($"{$"[{k + 1}]",-6}{p.Name,-14}{p.Size,9}{s.SpikeCount,10}{Num(s.MeanRateHz),11}{Num(s.IsiCv),9}{Num(s.FanoFactor),9}");
            }
            if (f.Populations.Count == 0) stdout.WriteLine($"{$"[{k + 1}]",-6}(no recorded populations)");
        }
        if (files.Count < 2) return ExitCodes.Ok;

        // Populations present in every file, with one size.
        var shared = files[0].Populations.Select(p => p.Name).Where(n => files.All(f => f.Populations.Any(p => p.Name == n))).ToList();
        foreach (var name in shared)
        {
            var sizes = files.Select(f => f.Populations.Single(p => p.Name == name).Size).ToArray();
            if (sizes.Distinct().Count() > 1)
                throw new UsageException($"population '{name}' has {string.Join(" / ", sizes)} neurons in the files: they describe different networks");
        }
        if (shared.Count == 0)
        {
            stdout.WriteLine();
            stdout.WriteLine("no population is recorded in every file: nothing to compare");
            return ExitCodes.Ok;
        }
        double from = files.Max(f => f.StartMs), until = files.Min(f => f.DurationMs);
        var trains = files.Select(f => shared.ToDictionary(n => n, n => f.Populations.Single(p => p.Name == n).Trains(InstanceOf(f), from, Math.Max(from, until)))).ToList();

        stdout.WriteLine();
        stdout.WriteLine($"distances per neuron over [{Num(from)}, {Num(Math.Max(from, until))}) ms, mean over the population's neurons (vR: van Rossum at τ; VP: Victor–Purpura at q = 1/τ)");
        var header = $"{"pair",-10}{"population",-14}" + string.Concat(taus.Select(t => $"{$"vR {Num(t)}",10}")) + string.Concat(taus.Select(t => $"{$"VP {Num(t)}",10}"));
        stdout.WriteLine(header);
        for (int x = 0; x < files.Count; x++)
            for (int y = x + 1; y < files.Count; y++)
                foreach (var name in shared)
                {
                    var a = trains[x][name];
                    var b = trains[y][name];
                    var line = $"{$"[{x + 1}]-[{y + 1}]",-10}{name,-14}";
                    foreach (double tau in taus)
                        line += $"{Num(Enumerable.Range(0, a.Length).Average(i => SpikeTrainDistances.VanRossum(a[i], b[i], tau))),10}";
                    foreach (double tau in taus)
                        line += $"{Num(Enumerable.Range(0, a.Length).Average(i => SpikeTrainDistances.VictorPurpura(a[i], b[i], 1 / tau))),10}";
                    stdout.WriteLine(line);
                }

        stdout.WriteLine();
        stdout.WriteLine($"jitter across the {files.Count} files (nearest spike of the same neuron in each other file, window {Num(window)} ms)");
        stdout.WriteLine($"{"population",-14}{"matched",10}{"unmatched",11}{"mean |Δ| ms",13}{"mean Δ ms",11}{"std Δ ms",10}");
        foreach (var name in shared)
        {
            double sum = 0, sumAbs = 0, sumSq = 0;
            long matched = 0, unmatched = 0;
            int size = trains[0][name].Length;
            for (int i = 0; i < size; i++)
            {
                var r = SpikeTrainDistances.Jitter([.. trains.Select(t => t[name][i])], window);
                unmatched += r.Unmatched;
                if (r.Matched == 0) continue;
                matched += r.Matched;
                sum += r.MeanMs * r.Matched;
                sumAbs += r.MeanAbsMs * r.Matched;
                sumSq += (r.StdMs * r.StdMs + r.MeanMs * r.MeanMs) * r.Matched;
            }
            double mean = matched > 0 ? sum / matched : double.NaN;
            double std = matched > 0 ? Math.Sqrt(Math.Max(0, sumSq / matched - mean * mean)) : double.NaN;
            stdout.WriteLine($"{name,-14}{matched,10}{unmatched,11}{Num(matched > 0 ? sumAbs / matched : double.NaN),13}{Num(mean),11}{Num(std),10}");
        }
        return ExitCodes.Ok;
    }
}
