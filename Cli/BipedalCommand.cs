using System.CommandLine;
using System.Globalization;
using Sim.Cli.Commands;
using Sim.Experiments;
using Sim.Experiments.Box2D;

namespace Sim.Cli;

/// <summary>
/// <c>sim task bipedal-expert</c>: the walking controller (<see cref="BipedalExpert"/>) on BipedalWalker-v3 over seeded
/// episodes (docs/environments/bipedal_walker.md), with its demonstrations written in the documented CSV format.
/// </summary>
public static class BipedalCommand
{
    /// <summary>Steps between two frames of <c>--render</c> (0.5 s of simulated time).</summary>
    public const int RenderEvery = 25;

    /// <summary>The definition of <c>sim task bipedal-expert</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var episodes = SimOptions.Int("--episodes", "episodes 0..E-1 (default 20)", 1, 20, "E");
        var seed = SimOptions.Seed("seed of the terrains and initial pushes (default 1)");
        var threads = SimOptions.Threads("episodes run side by side; the results do not depend on it", 1);
        var steps = SimOptions.Int("--time-limit", $"steps per episode, gymnasium's TimeLimit (default {BipedalConstants.TimeLimit})", 1, BipedalConstants.TimeLimit, "T");
        var outDir = SimOptions.Out("write DIR/episodes.csv, DIR/summary.txt, DIR/trajectories.png and DIR/demonstrations/episode-<e>.csv");
        var render = SimOptions.Flag("--render", $"with --out: also DIR/frames/step-<t>.png, one frame of episode 0 every {RenderEvery} steps");
        var cmd = new SimCommand("bipedal-expert", "The walking controller (a gait state machine with PD control of hip and knee targets) on BipedalWalker-v3 (normal terrain, Box2D 2.4.1; docs/environments/bipedal_walker.md): per-episode return, distance, steps and outcome, the mean, and the recorded demonstrations.", """
            Needs the Box2D shim (built with the project where libbox2d-dev and g++ are installed); without it the command
            says so and exits 1. Episode e is BipedalWalker.Reset(seed, e): the same numbers on every run and thread count.
            Exit codes: 0 ok, 1 failed (e.g. no Box2D), 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
            """) { episodes, seed, threads, steps, outDir, render };
        cmd.Validators.Add(r =>
        {
            if (r.GetResult(render) is { Implicit: false } && r.GetResult(outDir) is not { Implicit: false }) r.AddError("option --render needs --out DIR");
        });
        return cmd.Does(r => Execute(r.GetValue(episodes), r.GetValue(seed) ?? 1, SimOptions.ThreadCount(r.GetValue(threads)), r.GetValue(steps), r.GetValue(outDir),
            r.GetValue(render), io.Out, io.Err));
    }

    /// <summary>Runs the expert; returns the exit code.</summary>
    public static int Execute(int episodes, ulong seed, int threads, int timeLimit, string? outDir, bool render, TextWriter stdout, TextWriter stderr)
    {
        if (Box2DLibrary.UnavailableReason is { } reason)
        {
            stderr.WriteLine($"sim: {reason}");
            return ExitCodes.Failure;
        }
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");
        using var cts = new Interruption();
        BipedalEpisode[] runs;
        double stepsPerSecond;
        try { (runs, stepsPerSecond) = BipedalExpertRun.RunMany(seed, episodes, threads, timeLimit, cts.Token); }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("sim: interrupted; nothing written");
            return cts.ExitCode;
        }

        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(inv, $"bipedal-expert: BipedalWalker-v3 (normal terrain; Box2D, b2_version {Box2DLibrary.Version / 10000}.{Box2DLibrary.Version / 100 % 100}.{Box2DLibrary.Version % 100}), {episodes} episodes, seed {seed}, time limit {timeLimit} steps"));
        var table = new System.Text.StringBuilder("episode,return,distance_m,steps,outcome\n");
        foreach (var e in runs)
        {
            stdout.WriteLine(string.Create(inv, $"episode {e.Episode,3}: return {e.Return,8:F2}, distance {e.Distance,6:F2} m, steps {e.Steps,5}, {e.Outcome.ToString().ToLowerInvariant()}"));
            table.Append(inv, $"{e.Episode},{e.Return:R},{e.Distance:R},{e.Steps},{e.Outcome.ToString().ToLowerInvariant()}\n");
        }
        var returns = runs.Select(e => e.Return).ToArray();
        double mean = returns.Average();
        double sd = returns.Length > 1 ? Math.Sqrt(returns.Sum(x => (x - mean) * (x - mean)) / (returns.Length - 1)) : 0;
        var summary = new List<(string, string)>
        {
            ("finished", string.Create(inv, $"{runs.Count(e => e.Finished)} of {episodes} (reached x > {BipedalConstants.FinishX:F2} m)")),
            ("fell", string.Create(inv, $"{runs.Count(e => e.Outcome == BipedalOutcome.Fell)}")),
            ("time limit", string.Create(inv, $"{runs.Count(e => e.Outcome == BipedalOutcome.TimeLimit)}")),
            ("mean return", string.Create(inv, $"{mean:F2} (s.d. {sd:F2}, min {returns.Min():F2}, max {returns.Max():F2})")),
            ("mean distance", string.Create(inv, $"{runs.Average(e => e.Distance):F2} m")),
            ("mean steps", string.Create(inv, $"{runs.Average(e => e.Steps):F1}")),
            ("speed", string.Create(inv, $"{stepsPerSecond:F0} environment steps/s ({threads} thread{(threads == 1 ? "" : "s")}, expert included)")),
        };
        using (var t = new SummaryTable(stdout))
            foreach (var (k, v) in summary) t.Row(k, v);

        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "episodes.csv"), table.ToString());
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), string.Concat(summary.Select(s => $"{s.Item1}: {s.Item2}\n")));
            string demos = Path.Combine(outDir, "demonstrations");
            Directory.CreateDirectory(demos);
            foreach (var e in runs) DemonstrationFile.Write(Path.Combine(demos, string.Create(inv, $"episode-{e.Episode:D3}.csv")), e.Demonstration);
            stdout.WriteLine($"wrote {Path.Combine(outDir, "episodes.csv")}, {Path.Combine(outDir, "summary.txt")}, {demos}/episode-*.csv ({runs.Length} files)");
            stdout.WriteLine($"wrote {BipedalPlots.Trajectories(runs, seed, Path.Combine(outDir, "trajectories.png"))}");
            if (render)
            {
                string frames = Path.Combine(outDir, "frames");
                Directory.CreateDirectory(frames);
                double ret = 0;
                int count = 0;
                BipedalExpertRun.Run(seed, 0, timeLimit, env =>
                {
                    if (env.Steps % RenderEvery != 0 && env.Outcome == BipedalOutcome.Running) return;
                    BipedalPlots.Frame(env, ret, Path.Combine(frames, string.Create(inv, $"step-{env.Steps:D4}.png")));
                    count++;
                }, r => ret += r);
                stdout.WriteLine($"wrote {frames}/step-*.png ({count} frames of episode 0)");
            }
        }
        return ExitCodes.Ok;
    }
}
