using System.CommandLine;
using System.Globalization;
using Sim.Cli.Commands;
using Sim.EventCore.Engine;
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

/// <summary>
/// <c>sim task bipedal</c>: one cell (R, τ⋆, seed) of the walker's behavioural cloning with the rank-R / τ⋆ rule
/// (<see cref="BipedalCloning"/>, docs/tasks/bipedal.md).
/// </summary>
public static class BipedalCloningCommand
{
    /// <summary>The definition of <c>sim task bipedal</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var d = new BipedalCloningOptions();
        var rank = SimOptions.OptionalInt("--rank", $"feedback rank R, 4 ≤ R ≤ N (default {d.Rank})", 1, "R");
        var tauStar = SimOptions.TauStar(d.TauStarMs);
        var seed = SimOptions.Seed("seed of every random draw, the expert's episodes and the test terrains (default 1)");
        var iterations = SimOptions.Int("--iterations", $"training iterations, each followed by a closed-loop test (default {d.Iterations})", 0, d.Iterations, "K");
        var neurons = SimOptions.Neurons(d.Neurons);
        var episodes = SimOptions.Int("--test-episodes", $"closed-loop test episodes per test, one per batch instance (default {d.TestEpisodes})", 1, d.TestEpisodes, "E");
        var limit = SimOptions.Int("--time-limit", $"steps per test episode (default {d.TestSteps})", 1, d.TestSteps, "T");
        var demo = new Option<string?>("--demonstration") { Description = "clone this demonstration file (docs/environments/bipedal_walker.md) instead of the expert's episode", HelpName = "FILE" };
        var engine = SimOptions.Engine("event (one thread), dense (TorchSharp, cpu) or dense-cuda: the same episodes bit for bit", "event", "dense", "dense-cuda");
        var outDir = SimOptions.Out("write DIR/iterations.csv, DIR/summary.txt, DIR/learning-curve.png and DIR/trajectories.png");
        var cmd = new SimCommand("bipedal", "Behavioural cloning of the walker's gait (MODELS 4.3; docs/tasks/bipedal.md): N goal_lif_euler neurons learn the expert's 400-step demonstration with the rank-R / tau* rule, the readout is retrained on the network's own spikes, and the network drives the walker closed loop after every iteration.", """
            Needs the Box2D shim (see sim task bipedal-expert). Prints the test return of every iteration; Ctrl-C stops
            (exit 130; SIGTERM 143, SIGHUP 129; nothing is written for an unfinished run).
            Exit codes: 0 ok, 1 failed (e.g. no Box2D), 2 bad arguments, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
            """) { rank, tauStar, seed, iterations, neurons, episodes, limit, demo, engine, outDir };
        return cmd.Does(r =>
        {
            var o = d with
            {
                Rank = r.GetValue(rank) ?? d.Rank, TauStarMs = r.GetValue(tauStar), Seed = r.GetValue(seed) ?? 1, Iterations = r.GetValue(iterations),
                Neurons = r.GetValue(neurons), TestEpisodes = r.GetValue(episodes), TestSteps = r.GetValue(limit),
            };
            return Execute(o, r.GetValue(demo), r.GetValue(engine)!, r.GetValue(outDir), io.Out, io.Err);
        });
    }

    /// <summary>Runs one cell; returns the exit code.</summary>
    public static int Execute(BipedalCloningOptions o, string? demonstration, string engine, string? outDir, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (demonstration is not null) o = o with { Demonstration = DemonstrationFile.Read(demonstration) };
            o.Validate();
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            stderr.WriteLine($"sim: {(e is ArgumentException ? "option --" : "")}{e.Message}");
            return ExitCodes.Usage;
        }
        if (Box2DLibrary.UnavailableReason is { } reason)
        {
            stderr.WriteLine($"sim: {reason}");
            return ExitCodes.Failure;
        }
        if (outDir is not null) OutputFolder.EnsureWritable(outDir, "--out");
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"bipedal: {BipedalCloningPlots.Describe(o)}, {o.Iterations} iterations, {o.TestEpisodes} test episodes of at most {o.TestSteps} steps, engine {engine}");
        using var cts = new Interruption();
        BipedalCloningResult res;
        try
        {
            res = new BipedalCloning(o, EngineFactory.GridFactory(engine, new EngineSettings { Threads = 1 })).Run(it =>
                stdout.WriteLine(string.Create(inv, $"iteration {it.Iteration,3}: test return {it.MeanReturn,8:F2} (steps {it.MeanSteps,6:F1}, distance {it.MeanDistance,6:F2} m), dS train {it.TrainDeltaS,7:F0}, free {it.FreeDeltaS,7:F0}, readout MSE {it.ReadoutMse:F4}, validation {it.ValidationMse:F4}, {it.Seconds:F1} s")),
                cts.Token);
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("sim: interrupted; nothing written");
            return cts.ExitCode;
        }
        var best = res.Iterations.MaxBy(i => i.MeanReturn)!;
        var summary = new List<(string, string)>
        {
            ("cell", BipedalCloningPlots.Describe(o)),
            ("engine", engine),
            ("learning rate", string.Create(inv, $"sgd, eta = {res.Eta:G6} = {res.LearningRate} (eta0 = {o.BaseLearningRate:G4}*{o.LearningRateFactor:G4}/std(W_out), std(W_out) = {res.ReadoutSd:G6})")),
            ("readout limit", string.Create(inv, $"MSE {res.ReadoutLimit:F5} (on the target spikes)")),
            ("expert", string.Create(inv, $"mean test return {res.Expert.Returns.Average():F2} on the same {o.TestEpisodes} terrains")),
            ("first test", string.Create(inv, $"iteration 0: mean return {res.Iterations[0].MeanReturn:F2}")),
            ("last test", string.Create(inv, $"iteration {res.Iterations[^1].Iteration}: mean return {res.Iterations[^1].MeanReturn:F2}, mean distance {res.Iterations[^1].MeanDistance:F2} m")),
            ("best test", string.Create(inv, $"iteration {best.Iteration}: mean return {best.MeanReturn:F2}")),
            ("time", string.Create(inv, $"{res.Iterations.Skip(1).Select(i => i.Seconds).DefaultIfEmpty(res.Iterations[0].Seconds).Average():F1} s per iteration")),
        };
        using (var t = new SummaryTable(stdout))
            foreach (var (k, v) in summary) t.Row(k, v);
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            var csv = new System.Text.StringBuilder("iteration,mean_return,mean_steps,mean_distance_m,train_delta_s,free_delta_s,readout_mse,validation_mse,seconds," +
                string.Join(",", Enumerable.Range(0, o.TestEpisodes).Select(e => $"return_{e}")) + "\n");
            foreach (var i in res.Iterations)
                csv.Append(inv, $"{i.Iteration},{i.MeanReturn:R},{i.MeanSteps:R},{i.MeanDistance:R},{i.TrainDeltaS:R},{i.FreeDeltaS:R},{i.ReadoutMse:R},{i.ValidationMse:R},{i.Seconds:F3},{string.Join(",", i.Returns.Select(x => x.ToString("R", inv)))}\n");
            File.WriteAllText(Path.Combine(outDir, "iterations.csv"), csv.ToString());
            File.WriteAllText(Path.Combine(outDir, "summary.txt"), string.Concat(summary.Select(s => $"{s.Item1}: {s.Item2}\n")));
            stdout.WriteLine($"wrote {Path.Combine(outDir, "iterations.csv")}, {Path.Combine(outDir, "summary.txt")}");
            stdout.WriteLine($"wrote {BipedalCloningPlots.LearningCurve(res, Path.Combine(outDir, "learning-curve.png"))}");
            stdout.WriteLine($"wrote {BipedalCloningPlots.Trajectories(res, Path.Combine(outDir, "trajectories.png"))}");
        }
        return ExitCodes.Ok;
    }
}
