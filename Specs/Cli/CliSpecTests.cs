using System.CommandLine;
using Sim.Cli;
using Sim.Cli.Commands;
using Xunit;

namespace Sim.Specs.Cli;

/// <summary>
/// The command line as documented (docs/cli.md): the reference is generated from the definitions and must equal the
/// file; every command's help lists every option it accepts; one vocabulary (an option name has one value syntax in
/// every command); `--opt=value` works; repeated, conflicting and unknown options are refused with exit 2 and an error
/// against the command that was meant.
/// </summary>
public class CliSpecTests
{
    private static string Root([System.Runtime.CompilerServices.CallerFilePath] string here = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    private static RootCommand Tree() => CommandLine.Build(TextWriter.Null, TextWriter.Null);

    private static IEnumerable<(string Path, Command Command)> Walk(Command c, string path)
    {
        yield return (path, c);
        foreach (var s in c.Subcommands)
            foreach (var x in Walk(s, $"{path} {s.Name}")) yield return x;
    }

    [Fact]
    public void TheReferenceInDocsIsGeneratedFromTheDefinitions()
    {
        string expected = CliReference.Markdown(Tree());
        string file = Path.Combine(Root(), "docs", "cli.md");
        string actual = File.Exists(file) ? File.ReadAllText(file) : "";
        Assert.True(expected == actual, "docs/cli.md differs from the command definitions; regenerate it: scripts/refresh-cli-docs.sh");
        var (code, printed, _) = CliHarness.Sim("cli-reference");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(expected, printed);
    }

    [Fact]
    public void TheReadmeShowsTheCurrentTopLevelHelp()
    {
        var (code, help, _) = CliHarness.Sim("--help");
        Assert.Equal(ExitCodes.Ok, code);
        string readme = File.ReadAllText(Path.Combine(Root(), "README.md")).ReplaceLineEndings("\n");
        Assert.True(readme.Contains("```\n" + help.ReplaceLineEndings("\n").TrimEnd() + "\n```", StringComparison.Ordinal),
            "README.md's 'The command line' block differs from `sim --help`; run scripts/refresh-cli-docs.sh");
    }

    [Fact]
    public void EveryCommandsHelpListsItsOptionsAndExitsZero()
    {
        foreach (var (path, command) in Walk(Tree(), "sim").Where(c => !c.Command.Hidden))
        {
            string[] args = [.. path.Split(' ').Skip(1), "--help"];
            var (code, output, err) = CliHarness.Sim(args);
            Assert.True(code == ExitCodes.Ok, $"{path} --help: exit {code}: {err}");
            Assert.StartsWith($"Usage:\n  {path}", output.ReplaceLineEndings("\n"));
            foreach (var o in command.Options.Where(o => !o.Hidden)) Assert.Contains(o.Name, output);
            Assert.Contains("-h, --help", output);
        }
    }

    [Fact]
    public void OneNameHasOneValueSyntaxInEveryCommand()
    {
        var byName = Walk(Tree(), "sim").SelectMany(c => c.Command.Options.Where(o => o is not System.CommandLine.Help.HelpOption && !o.Hidden).Select(o => (c.Path, Option: o)))
            .GroupBy(x => x.Option.Name);
        foreach (var g in byName)
        {
            // A choice (--engine event|dense|…) may offer fewer values where a command supports fewer; its name and type stay.
            var syntaxes = g.Select(x => (x.Option.HelpName is { } h && h.Contains('|') ? "choice" : x.Option.HelpName, x.Option.ValueType, x.Option.Arity.MaximumNumberOfValues)).Distinct().ToList();
            Assert.True(syntaxes.Count == 1, $"{g.Key} takes different values in {string.Join(", ", g.Select(x => x.Path))}");
        }
        var names = byName.Select(g => g.Key).ToHashSet();
        foreach (string old in new[] { "--n", "--t", "--r-values", "--tau-values" }) Assert.DoesNotContain(old, names);
        // --threads 0 is "one per core" wherever threads are set.
        foreach (var (path, command) in Walk(Tree(), "sim").Where(c => c.Command.Options.Any(o => o.Name == "--threads")))
            Assert.Empty(Tree().Parse([.. path.Split(' ').Skip(1), "--threads", "0"]).Errors);
    }

    [Theory]
    [InlineData("run --seed=5 --duration-ms=0 --batch=2")]
    [InlineData("run -o=out --no-plots --no-progress")]
    [InlineData("task store-recall --rank=5 --tau-star=2 --epochs 0")]
    [InlineData("task store-recall --ltts --authors")]
    [InlineData("sweep store-recall --merge a b c --out m --no-plot")]
    [InlineData("sweep store-recall --ranks 3 --ltts --tau-stars 1,2 --shard 1/2")]
    [InlineData("task button-food --ranks 1,34 --feedback random --no-clamp")]
    public void AcceptedForms(string line) => Assert.Empty(Tree().Parse(line.Split(' ')).Errors);

    [Theory]
    [InlineData("run --seed 1 --seed 2", "sim run", "--seed")]
    [InlineData("run --no-plot --no-plot", "sim run", "--no-plot")]
    [InlineData("run --seed -3", "sim run", "option --seed: '-3' is not a non-negative integer")]
    [InlineData("run --threads -1", "sim run", "option --threads: '-1' is not an integer ≥ 0")]
    [InlineData("run --engine gpu", "sim run", "option --engine: 'gpu' is not one of event, dense, dense-cuda, precise")]
    [InlineData("run --resume x.ckpt --seed 3", "sim run", "options --resume and --seed exclude each other")]
    [InlineData("run --engine precise --save-checkpoint", "sim run", "the precise engine has no checkpoints")]
    [InlineData("run a.yaml b.yaml", "sim run", "b.yaml")]
    [InlineData("run --frobnicate", "sim run", "--frobnicate")]
    [InlineData("task", "sim task", "command")]
    [InlineData("task store-recall --ltts --rank 5", "sim task store-recall", "options --ltts and --rank exclude each other")]
    [InlineData("task store-recall --ltts --output-space", "sim task store-recall", "exclude each other")]
    [InlineData("task store-recall --eta 1 --eta-per-norm 1", "sim task store-recall", "options --eta and --eta-per-norm exclude each other")]
    [InlineData("task store-recall --authors --initial-rec-sd 0.5", "sim task store-recall", "option --authors already sets --teacher-lag and --initial-rec-sd 1")]
    [InlineData("task store-recall --neurons 2", "sim task store-recall", "option --neurons: must be at least the task's 3 outputs")]
    [InlineData("task store-recall --rank 200", "sim task store-recall", "option --rank: must lie in [O, N] = [3, 150]")]
    [InlineData("task store-recall --steps 3", "sim task store-recall", "option --steps:")]
    [InlineData("task store-recall --tau-star 0", "sim task store-recall", "option --tau-star: '0' is not a finite number > 0")]
    [InlineData("sweep store-recall --n 20", "sim sweep store-recall", "'--n'")]
    [InlineData("sweep store-recall --merge a --epochs 5", "sim sweep store-recall", "option --merge runs nothing; --epochs cannot be given with it")]
    [InlineData("sweep store-recall --ranks 3,3", "sim sweep store-recall", "option --ranks: '3,3' repeats a value")]
    [InlineData("sweep store-recall --ranks 300", "sim sweep store-recall", "option --ranks: must lie in [O, N]")]
    [InlineData("sweep store-recall --shard 2/2", "sim sweep store-recall", "option --shard: '2/2' is not i/n with 0 ≤ i < n")]
    [InlineData("sweep button-food --seed 4", "sim sweep button-food", "give --seeds S")]
    [InlineData("task button-food --ranks 301", "sim task button-food", "option --ranks: must lie in [1, 300]")]
    [InlineData("task rank-estimation --ranks 2", "sim task rank-estimation", "option --ranks: must lie in [O, N]")]
    [InlineData("task volatility --simulations 0", "sim task volatility", "option --simulations: '0' is not an integer ≥ 1")]
    [InlineData("task volatility --trials 1", "sim task volatility", "option --trials: '1' is not an integer ≥ 2")]
    [InlineData("task volatility --models healthy,sick", "sim task volatility", "option --models: 'healthy,sick' holds 'sick', which is not one of healthy, stochasticity-lesion, volatility-lesion, vkf")]
    [InlineData("task volatility --lambda-v 1", "sim task volatility", "option --lambda-v: '1' is not a number in (0, 1)")]
    [InlineData("task volatility --volatilities 0.5,0", "sim task volatility", "option --volatilities: '0.5,0' holds '0', which is not a finite number > 0")]
    [InlineData("task volatility --particles 1", "sim task volatility", "option --particles: '1' is not an integer ≥ 2")]
    [InlineData("task volatility --vkf-lambda 2", "sim task volatility", "option --vkf-lambda: '2' is not a number in [0, 1]")]
    [InlineData("task perturbation --sigma 0", "sim task perturbation", "option --sigma: '0' is not a finite number > 0")]
    [InlineData("task perturbation --sigma -0.1", "sim task perturbation", "option --sigma: '-0.1' is not a finite number > 0")]
    [InlineData("task perturbation --eta -1", "sim task perturbation", "option --eta: '-1' is not a finite number ≥ 0")]
    [InlineData("task perturbation --trials 0", "sim task perturbation", "option --trials: '0' is not an integer ≥ 1")]
    [InlineData("task perturbation --rule wp,xp", "sim task perturbation", "option --rule: 'wp,xp' holds 'xp', which is not one of wp, np, wp0, hybrid")]
    [InlineData("task perturbation --task spiking", "sim task perturbation", "option --task: 'spiking' is not one of analytic, reservoir")]
    [InlineData("task perturbation --task reservoir --task-dim 5", "sim task perturbation", "option --task-dim applies to --task analytic only")]
    [InlineData("task perturbation --task reservoir --durations 100,200", "sim task perturbation", "option --durations applies to --task analytic only")]
    [InlineData("task perturbation --units 100", "sim task perturbation", "option --units applies to --task reservoir only")]
    [InlineData("task perturbation --duration 40", "sim task perturbation", "option --duration: must be at least task-dim + 2 = 52")]
    [InlineData("task perturbation --durations 100,30", "sim task perturbation", "option --durations: must be at least task-dim + 2 = 52")]
    [InlineData("task perturbation --duration 100 --durations 100,200", "sim task perturbation", "options --duration and --durations exclude each other")]
    [InlineData("task perturbation --trial-dim 60", "sim task perturbation", "option --task-dim: must be at least the trial dimension 60")]
    [InlineData("task perturbation --decay 1", "sim task perturbation", "option --decay: '1' is not a number in [0, 1)")]
    [InlineData("analyze", "sim analyze", "FILE")]
    [InlineData("bench --repeats 0", "sim bench", "option --repeats: '0' is not an integer ≥ 1")]
    [InlineData("compare --device tpu", "sim compare", "'tpu' is not one of cpu, cuda")]
    [InlineData("timing --recurrent --feedforward", "sim timing", "exclude each other")]
    public void RefusedWithExitTwoAgainstTheCommand(string line, string command, string message)
    {
        var (code, output, err) = CliHarness.Sim(line.Split(' '));
        Assert.True(code == ExitCodes.Usage, $"{line}: exit {code}\n{output}\n{err}");
        Assert.StartsWith($"{command}: ", err);
        Assert.Contains(message, err);
        Assert.Contains($"Try '{command} --help'.", err);
    }

    [Fact]
    public void ResponseFilesAndTheVersion()
    {
        string dir = CliHarness.TempDir();
        string rsp = Path.Combine(dir, "args.rsp");
        File.WriteAllText(rsp, "--seed 1\n--seed 2\n");
        var (code, _, err) = CliHarness.Sim("run", $"@{rsp}");
        Assert.Equal(ExitCodes.Usage, code);   // read from the file, and the repeat is caught there too
        Assert.Contains("--seed", err);
        var version = CliHarness.Sim("--version");
        Assert.Equal(ExitCodes.Ok, version.Code);
        Assert.Matches(@"^\d+\.\d+", version.Out);
    }
}
