using Sim.Fuzz;
using Xunit;

namespace Sim.Specs.Probes;

/// <summary>
/// Every input the fuzzer kept (Fuzz/corpus/TARGET: the inputs that reached a new outcome, and every crash it found,
/// fixed since) goes through its target again: a clean outcome, never an unexpected exception (docs/reliability.md,
/// "Fuzzing"). The corpus holds at least the crashes named below, each a fixed bug.
/// </summary>
public class FuzzCorpusTests
{
    private static string CorpusDir([System.Runtime.CompilerServices.CallerFilePath] string here = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "Fuzz", "corpus"));

    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryCorpusInputHasACleanOutcome(string target)
    {
        string dir = Path.Combine(CorpusDir(), target);
        var files = Directory.GetFiles(dir).Order(StringComparer.Ordinal).ToArray();
        Assert.True(files.Length >= 20, $"{dir}: only {files.Length} inputs");
        foreach (string f in files)
        {
            var ex = Record.Exception(() => FuzzTargets.All[target](File.ReadAllBytes(f)));
            Assert.True(ex is null, $"{Path.GetFileName(f)}: {ex}");
        }
    }

    [Fact]
    public void TheCrashesFoundSoFarAreKeptAsRegressionCases()
    {
        // refractory_ms of 1e308 overflowed the tick count; an event sequence YamlDotNet's model rejects with
        // ArgumentException; a spike stream header claiming 10^9 neurons exhausted memory; a Poisson rate of 1e308 Hz
        // and p = 1e-320 never finished (their files are in the corpus and replayed above).
        Assert.Equal("refused populations[].params.refractory_ms", FuzzTargets.Network(File.ReadAllBytes(Path.Combine(CorpusDir(), "network", "crash-d4c44307dd45dbfb"))));
        Assert.StartsWith("refused", FuzzTargets.SpikeStream(File.ReadAllBytes(Path.Combine(CorpusDir(), "spikes", "crash-318b422009a9be09"))));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(CorpusDir(), "network"), "crash-*"));
        // run.h5 with a neuron id beyond its population (IndexOutOfRange in the statistics); a damaged length PureHDF
        // allocated as given (OutOfMemoryException): both now a usage error.
        foreach (string f in Directory.GetFiles(Path.Combine(CorpusDir(), "hdf5"), "crash-*"))
            Assert.StartsWith("refused", FuzzTargets.RunFile(File.ReadAllBytes(f)));
    }

    /// <summary>
    /// A run.h5 on which PureHDF loops for ever (found by fuzzing): <c>sim analyze</c> gives up after its deadline with
    /// exit 2 and says why. In a child process, so that the abandoned reader does not spin on beside the other specs.
    /// </summary>
    [Fact]
    public void ARunFileThatMakesTheReaderLoopIsRefusedAfterTheDeadline()
    {
        string file = Path.Combine(CorpusDir(), "hdf5-hangs", "crash-3e9c89033dd5864e");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, err) = ChildProcess.Run("sim.dll", ["analyze", file]);
        Assert.Equal(Sim.Cli.ExitCodes.Usage, code);
        Assert.Contains("did not finish within 30 s", err);
        Assert.InRange(clock.Elapsed.TotalSeconds, 25, 120);
    }
}
