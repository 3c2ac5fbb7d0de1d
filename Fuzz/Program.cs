using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;
using Sim.Fuzz;

// sim-fuzz: a deterministic in-process mutation fuzzer over Sim's readers (docs/reliability.md, "Fuzzing").
//   dotnet run -c Release --project Fuzz -- TARGET [--executions N] [--seed S] [--corpus DIR] [--examples DIR]
//   dotnet run -c Release --project Fuzz -- TARGET --replay FILE        (one input, with the stack trace of a crash)
//   dotnet run -c Release --project Fuzz -- soak [TICKS] [INTERRUPTIONS] [SEED]   (default 10^6 ticks, 100 cuts)
// TARGET: network | checkpoint | spikes | hdf5 (run.h5 through sim analyze). Inputs whose outcome class is new are kept in DIR/TARGET, at most
// --max-corpus (100) per campaign (the regression corpus the test suite replays); a crash (an exception the target does not allow) or a hang (> 10 s) is written to
// DIR/TARGET/crash-<hash> and ends the campaign with exit 1 (> 60 s for hdf5, whose reader has a 30 s deadline). Exit 0: no crash; 2: bad arguments.
if (args.Length > 0 && args[0] == "soak")
{
    // sim-fuzz soak [TICKS] [INTERRUPTIONS] [SEED]: docs/reliability.md, "Soak".
    long soakTicks = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
    int cuts = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
    ulong soakSeed = args.Length > 3 ? ulong.Parse(args[3], CultureInfo.InvariantCulture) : 1;
    return Soak.Run(soakTicks, cuts, soakSeed, Console.Out);
}
if (args.Length == 0 || !FuzzTargets.All.ContainsKey(args[0]))
{
    Console.Error.WriteLine("usage: sim-fuzz network|checkpoint|spikes|hdf5 [--executions N] [--seed S] [--corpus DIR] [--examples DIR] [--replay FILE]\n       sim-fuzz soak [TICKS] [INTERRUPTIONS] [SEED]");
    return 2;
}
string target = args[0];
long executions = 100_000;
ulong seed = 1;
string corpus = "Fuzz/corpus", examples = "examples";
int maxKept = 100;
for (int i = 1; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--executions": executions = long.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--corpus": corpus = Next(); break;
        case "--examples": examples = Next(); break;
        case "--max-corpus": maxKept = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--replay":
            // One input through the target in this thread: its outcome, or the exception with its stack trace.
            Console.WriteLine(FuzzTargets.All[target](File.ReadAllBytes(Next())));
            return 0;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
var run = FuzzTargets.All[target];
// A hang is no result after 10 s; run.h5 reading has its own deadline (30 s, then a usage error), so 60 s there.
var HangSeconds = TimeSpan.FromSeconds(target == "hdf5" ? 60 : 10);
string dir = Path.Combine(corpus, target);
Directory.CreateDirectory(dir);

// Seeds: the corpus so far, and fresh ones (scaled-down example networks; checkpoints and streams of a small network).
var seeds = Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
switch (target)
{
    case "network":
        foreach (string f in Directory.Exists(examples) ? Directory.GetFiles(examples, "*.yaml").Order(StringComparer.Ordinal).ToArray() : [])
            seeds.Add(Encoding.UTF8.GetBytes(Regex.Replace(File.ReadAllText(f), @"size: (\d+)",
                m => $"size: {Math.Max(1, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / 200)}")));
        seeds.Add(Encoding.UTF8.GetBytes(FuzzTargets.CheckpointNetwork));
        break;
    case "checkpoint":
        foreach (int t in new[] { 0, 7, 120 }) seeds.Add(FuzzTargets.CheckpointSeed(t));
        break;
    case "hdf5":
        foreach (double ms in new[] { 0.0, 5, 40 }) seeds.Add(FuzzTargets.RunFileSeed(ms));
        break;
    default:
        foreach (int t in new[] { 0, 40, 400 }) seeds.Add(FuzzTargets.SpikeStreamSeed(t));
        break;
}
var outcomes = new Dictionary<string, long>();
foreach (var s in seeds) { string o = Guarded(s, out _); outcomes[o] = outcomes.GetValueOrDefault(o) + 1; }

var mutator = new Mutator(seed);
var clock = Stopwatch.StartNew();
bool text = target == "network", reseal = target == "checkpoint";
long kept = 0;
for (long k = 0; k < executions; k++)
{
    var parent = seeds[(int)(k % seeds.Count)];
    var other = seeds[(int)((k * 7919 + 13) % seeds.Count)];
    var input = mutator.Mutate(parent, other, k, text, reseal);
    string outcome = Guarded(input, out var crash);
    if (outcome.Contains("did not finish within", StringComparison.Ordinal))
    {
        // sim analyze gave up on a file PureHDF loops on: a clean refusal, but the abandoned reader spins on (and
        // allocates) in this process, so the campaign stops here with the input kept beside the corpus.
        string hangs = Path.Combine(corpus, target + "-hangs");
        Directory.CreateDirectory(hangs);
        string path = Path.Combine(hangs, $"crash-{XxHash3.HashToUInt64(input):x16}");
        File.WriteAllBytes(path, input);
        Console.WriteLine($"{target}: stopped after {k + 1:N0} executions: the reader's deadline ran out on {path} (refused cleanly; the " +
            $"abandoned reader cannot be stopped in-process); {outcomes.Count} outcome classes so far, no crash");
        return 0;
    }
    if (crash is not null)
    {
        string path = Path.Combine(dir, $"crash-{XxHash3.HashToUInt64(input):x16}");
        File.WriteAllBytes(path, input);
        Console.WriteLine($"CRASH after {k + 1:N0} executions: {crash.GetType().Name}: {crash.Message}\n{crash.StackTrace}\ninput: {path}");
        return 1;
    }
    if (!outcomes.ContainsKey(outcome) && input.Length <= 1 << 16 && kept < maxKept)
    {
        File.WriteAllBytes(Path.Combine(dir, $"{XxHash3.HashToUInt64(input):x16}"), input);
        seeds.Add(input);
        kept++;
    }
    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
    if ((k + 1) % 100_000 == 0) Console.WriteLine($"{k + 1:N0} executions, {outcomes.Count} outcome classes, {clock.Elapsed.TotalSeconds:F0} s");
}
double seconds = clock.Elapsed.TotalSeconds;
Console.WriteLine($"{target}: {executions:N0} executions in {seconds:F0} s ({executions / Math.Max(1e-9, seconds):N0}/s), seed {seed}, no crash, no hang; " +
    $"{outcomes.Count} distinct outcome classes ({outcomes.Where(o => o.Key == "ok").Sum(o => o.Value):N0} accepted), {kept} new corpus inputs in {dir}");
return 0;

string Guarded(byte[] input, out Exception? crash)
{
    crash = null;
    var watch = Stopwatch.StartNew();
    try
    {
        var task = Task.Run(() => run(input));
        if (!task.Wait(HangSeconds)) { crash = new TimeoutException($"hang: no result after {watch.Elapsed.TotalSeconds:F0} s"); return "hang"; }
        return task.Result;
    }
    catch (AggregateException e) when (e.InnerException is { } inner) { crash = inner; return "crash"; }
}
