using System.Diagnostics;
using Sim.Cli;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary>The <c>sim</c> tool: arguments, exit codes, outputs, and bit-identity across SIMD widths (child processes).</summary>
public class CliTests
{
    internal const string SmallNetwork = """
        name: small
        run: {dt_ms: 0.1, duration_ms: 300, seed: 5, batch: 2}
        populations:
          - name: exc
            size: 400
            model: lif_exp
            params: &lif {tau_mem_ms: 20, tau_exc_ms: 5, tau_inh_ms: 10, e_leak_mv: -49, v_threshold_mv: -50,
                          v_reset_mv: -60, refractory_ms: 5, v_init_mv: {uniform: [-60, -50]}}
          - {name: inh, size: 100, model: lif_exp, params: *lif}
          - name: goal
            size: 40
            model: goal_lif
            escape_noise: {delta_v: 1.0}
        inputs:
          - {name: drive, kind: poisson, size: 20, rate_hz: {uniform: [5, 50]}}
          - {name: clock, kind: clock, channels: 5, span_ms: 2.9, period_ms: 15}
        projections:
          - {source: exc, target: exc, connectivity: {rule: fixed_probability, p: 0.16}, weight: 1.62}
          - {source: exc, target: inh, connectivity: {rule: fixed_probability, p: 0.16}, weight: 1.62}
          - {source: inh, target: exc, connectivity: {rule: fixed_probability, p: 0.16}, weight: -9}
          - {source: inh, target: inh, connectivity: {rule: fixed_probability, p: 0.16}, weight: -9}
          - {source: drive, target: exc, connectivity: {rule: fixed_in_degree, k: 2}, weight: 3.0, delay_ms: {uniform: [0.1, 2.0]}}
          - {source: clock, target: goal, connectivity: all_to_all, weight: {normal: [0, 22]}}
          - {source: goal, target: goal, connectivity: {rule: fixed_probability, p: 0.3, autapses: false}, weight: {normal: [0, 2]}}
        monitors:
          - {kind: spikes, populations: [exc, inh, goal]}
        """;

    private static string TempDir() => CliHarness.TempDir();

    private static (int Code, string Out, string Err) Sim(params string[] args) => CliHarness.Sim(args);

    [Fact]
    public void HelpAndBadArguments()
    {
        Assert.Equal(ExitCodes.Ok, Sim("--help").Code);
        var run = Sim("run", "--help");
        Assert.Equal(ExitCodes.Ok, run.Code);
        Assert.Contains("--duration-ms", run.Out);
        Assert.Equal(ExitCodes.Usage, Sim("frobnicate").Code);
        var bad = Sim("run", "--seed", "-3");
        Assert.Equal(ExitCodes.Usage, bad.Code);
        Assert.Contains("--seed", bad.Err);
        Assert.Equal(ExitCodes.Usage, Sim("run", "no-such-file.yaml").Code);
    }

    [Fact]
    public void InvalidFileReportsFileLineAndFieldAndWritesNothing()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "bad.yaml");
        File.WriteAllText(file, SmallNetwork.Replace("tau_mem_ms: 20", "tau_mem_ms: -20"));
        var r = Sim("run", file, "--out", Path.Combine(dir, "out"));
        Assert.Equal(ExitCodes.Usage, r.Code);
        Assert.Contains("bad.yaml:7:", r.Err);
        Assert.Contains("tau_mem_ms", r.Err);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")), "an invalid file must not leave an output folder");
    }

    [Fact]
    public void RunWritesItsOutputsAndSummary()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "small.yaml");
        File.WriteAllText(file, SmallNetwork);
        var r = Sim("run", file, "--out", dir, "--no-progress", "--duration-ms", "100");
        Assert.True(r.Code == ExitCodes.Ok, r.Err + r.Out);
        Assert.Contains("neurons      540", r.Out);
        Assert.Contains("real-time", r.Out);
        Assert.Contains("status       complete", r.Out);
        string runDir = Directory.GetDirectories(dir).Single();
        Assert.StartsWith("small-", Path.GetFileName(runDir));
        Assert.True(File.Exists(Path.Combine(runDir, "config.yaml")));
    }

    private static string ChildDigest(string file, params (string Key, string Value)[] env)
    {
        string output = ChildSim(["run", file, "--no-progress", "--no-plot", "--threads", env.Length > 0 ? "1" : "2", "--out", Path.GetDirectoryName(file)!], env);
        return output.Split('\n').Single(l => l.StartsWith("digest", StringComparison.Ordinal));
    }

    /// <summary>Runs sim in a child process with extra environment variables; returns its standard output.</summary>
    private static string ChildSim(string[] args, params (string Key, string Value)[] env)
    {
        var (code, output, err) = ChildProcess.Run("sim.dll", args, env);
        Assert.True(code == 0, $"sim exited {code}: {err}");
        return output;
    }

    private static string Line(string output, string prefix) => output.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public void DenseEngineRunGivesTheSameDigestAsTheEventEngine()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "small.yaml");
        File.WriteAllText(file, SmallNetwork);
        var ev = Sim("run", file, "--out", dir, "--no-progress", "--no-plot", "--duration-ms", "60");
        var de = Sim("run", file, "--out", dir, "--no-progress", "--no-plot", "--duration-ms", "60", "--engine", "dense");
        Assert.True(de.Code == ExitCodes.Ok, de.Err);
        Assert.Contains("engine       dense (cpu)", de.Out);
        Assert.Equal(Line(ev.Out, "digest"), Line(de.Out, "digest"));
    }

    [Fact]
    public void ResumingACheckpointOnTheOtherEngineEqualsTheWholeRun()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "small.yaml");
        File.WriteAllText(file, SmallNetwork);
        var whole = Sim("run", file, "--out", Path.Combine(dir, "whole"), "--no-progress", "--no-plot", "--duration-ms", "80");
        var first = Sim("run", file, "--out", Path.Combine(dir, "first"), "--no-progress", "--no-plot", "--duration-ms", "30", "--save-checkpoint");
        Assert.True(first.Code == ExitCodes.Ok, first.Err);
        string ckpt = Directory.GetFiles(Path.Combine(dir, "first"), "checkpoint.ckpt", SearchOption.AllDirectories).Single();
        var rest = Sim("run", file, "--out", Path.Combine(dir, "rest"), "--no-progress", "--no-plot", "--duration-ms", "80", "--resume", ckpt, "--engine", "dense");
        Assert.True(rest.Code == ExitCodes.Ok, rest.Err);
        Assert.Contains("resumed at tick 300", rest.Out);
        Assert.Equal(Line(whole.Out, "state digest"), Line(rest.Out, "state digest"));
        var bad = Sim("run", "--resume", ckpt, "--no-progress");   // the built-in CUBA is another network
        Assert.Equal(ExitCodes.Usage, bad.Code);
        Assert.Contains("different network", bad.Err);
    }

    /// <summary>
    /// SIGINT (Ctrl-C) and SIGTERM (kill, batch systems) stop a run cleanly with its outputs, also when the process was
    /// started in the background by a non-interactive shell (which starts it with SIGINT ignored).
    /// </summary>
    [Theory]
    [InlineData("-INT", false, ExitCodes.Interrupted)]
    [InlineData("-TERM", false, ExitCodes.Terminated)]
    [InlineData("-HUP", false, ExitCodes.HungUp)]
    [InlineData("-INT", true, ExitCodes.Interrupted)]
    public async Task SignalsStopARunCleanlyAndKeepWhatWasWritten(string signal, bool startedInBackground, int exitCode)
    {
        string dir = TempDir();
        string sim = Path.Combine(AppContext.BaseDirectory, "sim.dll");
        // 10 h of CUBA, stopped by the signal after seconds; only its spike monitor (streamed), since the state and rate
        // monitors of a 10 h run would be refused up front (tens of GB of samples).
        var cuba = global::Sim.EventCore.Description.BenchmarkNetworks.Cuba();
        string file = Path.Combine(TempDir(), "cuba-spikes.yaml");
        File.WriteAllText(file, global::Sim.EventCore.Description.NetworkFile.Write(cuba with { Monitors = [.. cuba.Monitors.OfType<global::Sim.EventCore.Description.SpikeMonitorSpec>()] }));
        string[] run = ["dotnet", sim, "run", file, "--no-progress", "--no-plot", "--duration-ms", "36000000", "--save-checkpoint", "--out", dir];
        // In the background of a non-interactive sh, with its SIGINT ignored, as `cmd &` in a script starts it. The
        // other cases start with the three signals at their defaults (coreutils env): a suite run under nohup passes
        // SIGHUP on ignored, and an ignored SIGHUP stays ignored in sim, as nohup promises.
        var psi = startedInBackground
            ? new ProcessStartInfo("sh") { ArgumentList = { "-c", "trap '' INT; exec \"$@\"", "sh" } }
            : new ProcessStartInfo("env") { ArgumentList = { "--default-signal=HUP,INT,TERM" } };
        foreach (var a in run) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        try
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            // Wait until the run folder and its spike stream exist, let it run a little, then send SIGINT as Ctrl-C does.
            // (10 h simulated: the run cannot finish on its own before the signal, however loaded or fast the machine.)
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60) && !Directory.EnumerateFiles(dir, "spikes.bin", SearchOption.AllDirectories).Any()) await Task.Delay(50);
            await Task.Delay(1500);
            using (var kill = Process.Start("kill", [signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await p.WaitForExitAsync(timeout.Token);
            await Interrupted(p, dir, stdout, stderr, exitCode);
            // The checkpoint --save-checkpoint promises "also when interrupted", whole (its checksum holds).
            var ckpt = global::Sim.EventCore.Engine.Checkpoint.Load(Path.Combine(Directory.GetDirectories(dir).Single(), "checkpoint.ckpt"));
            Assert.True(ckpt.Tick > 0);
        }
        finally
        {
            // Never leave a 10-hour run behind (it would grow until the machine runs out of memory).
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    private static async Task Interrupted(Process p, string dir, Task<string> stdout, Task<string> stderr, int exitCode = ExitCodes.Interrupted)
    {
        Assert.Equal(exitCode, p.ExitCode);
        Assert.Contains("status       interrupted", await stdout);
        string runDir = Directory.GetDirectories(dir).Single();
        Assert.True(File.Exists(Path.Combine(runDir, "config.yaml")));
        string h5 = Path.Combine(runDir, "run.h5");
        Assert.True(File.Exists(h5), await stderr);
        using var file = PureHDF.H5File.OpenRead(h5);
        Assert.Equal("interrupted", file.Attribute("status").Read<string>());
        double simulated = file.Attribute("duration_ms").Read<double>();
        Assert.InRange(simulated, 1.0, 35_999_999.0);
    }

    [Fact]
    public void ResultsDoNotDependOnVectorWidthOrThreads()
    {
        // The same network in child processes with 256-bit vectors and 2 threads, 128-bit vectors and 1 thread,
        // and no AVX2 at all: spikes and final state must be bit-identical (same digest).
        string dir = TempDir();
        string file = Path.Combine(dir, "small.yaml");
        File.WriteAllText(file, SmallNetwork);
        string wide = ChildDigest(file);
        Assert.Equal(wide, ChildDigest(file, ("DOTNET_PreferredVectorBitWidth", "128")));
        Assert.Equal(wide, ChildDigest(file, ("DOTNET_EnableAVX2", "0")));
    }

    [Fact]
    public void PlasticRunsDoNotDependOnVectorWidth()
    {
        // The rank-R rule, the spike filter and the feedback run through TensorPrimitives (element-wise, unfused): a
        // store-and-recall cell learned in child processes at 256-bit, 128-bit and no-AVX2 vector widths must give the
        // same curve to the last bit (the CSV holds round-trip doubles of MSE per epoch).
        string dir = TempDir();
        string Curve(string sub, params (string, string)[] env)
        {
            string outDir = Path.Combine(dir, sub);
            ChildSim(["task", "store-recall", "--neurons", "40", "--steps", "50", "--rank", "10", "--epochs", "5", "-o", outDir], env);
            return File.ReadAllText(Path.Combine(outDir, "store-recall.csv"));
        }
        string wide = Curve("wide");
        Assert.Equal(6, wide.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(wide, Curve("sse", ("DOTNET_PreferredVectorBitWidth", "128")));
        Assert.Equal(wide, Curve("noavx2", ("DOTNET_EnableAVX2", "0")));
    }
}
