using System.Diagnostics;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.Plasticity;
using Sim.Specs.EventCore;
using Sim.Specs.Reference;
using Xunit;

namespace Sim.Specs.Conformance;

/// <summary>
/// What the generated conformance specs share: running FsCheck properties inside theories over the registries, the
/// digests of runs, and the child processes that run a model's or a rule's sample at another vector width.
/// </summary>
internal static class Conformance
{
    /// <summary>Every registered model's name, for [MemberData].</summary>
    public static TheoryData<string> ModelNames() => [.. ModelRegistry.Names];

    /// <summary>Every registered rule's name, for [MemberData].</summary>
    public static TheoryData<string> RuleNames() => [.. RuleRegistry.Names];

    /// <summary>The registry index of a model.</summary>
    public static int IndexOf(string model) => ModelRegistry.Names.ToList().IndexOf(model);

    /// <summary>Checks <paramref name="property"/> on <paramref name="maxTest"/> generated cases; throws (with the case and FsCheck's replay seed) on failure.</summary>
    public static void Check<T>(int maxTest, Arbitrary<T> arbitrary, Func<T, Property> property)
        => global::FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(maxTest), Prop.ForAll(arbitrary, property));

    /// <summary>A SHA-256 (16 hex digits) of the spikes of every instance, the final state and optional weights, bit for bit.</summary>
    public static string Digest((List<(long, int)>[] Spikes, Dictionary<string, double[]>[] State) run, IEnumerable<double[]>? weights = null)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int b = 0; b < run.Spikes.Length; b++)
        {
            foreach (var (t, i) in run.Spikes[b]) { h.AppendData(BitConverter.GetBytes(t)); h.AppendData(BitConverter.GetBytes(i)); }
            foreach (var (name, values) in run.State[b].OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                h.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
                foreach (double x in values) h.AppendData(BitConverter.GetBytes(BitConverter.DoubleToInt64Bits(x)));
            }
        }
        foreach (var w in weights ?? []) foreach (double x in w) h.AppendData(BitConverter.GetBytes(BitConverter.DoubleToInt64Bits(x)));
        return Convert.ToHexString(h.GetHashAndReset())[..16];
    }

    /// <summary>The fixed sample network of a model used at every vector width (a mixed network, the model first).</summary>
    public static NetCase ModelSample(string model)
        => new(4242, [IndexOf(model), 0, 2], [40, 25, 12], [7, 77, 777, 7777, 77777], 7, true, true, 300, 2);

    /// <summary>Runs a model's sample on the event engine (one thread) and digests it.</summary>
    public static string ModelDigest(string model)
    {
        var c = ModelSample(model);
        var net = NetworkCompiler.Compile(c.ToSpec());
        return Digest(ReferenceModelTests.RunEngine(net, c.Ticks));
    }

    /// <summary>Runs a rule's sample (seed 4242, batch 2) on the event engine and digests spikes, state and plastic weights.</summary>
    public static string RuleDigest(string rule)
    {
        var sample = RuleRegistry.Get(rule).Sample(4242, 2);
        return Digest(RuleConformanceTests.Learn(sample, net => new EventEngine(net, new EngineOptions { Threads = 1 }), out var weights), weights);
    }

    /// <summary>
    /// Runs <c>dotnet Sim.Specs.dll conformance-child KIND NAME</c> with extra environment variables (e.g. a vector
    /// width) and returns the digest it prints.
    /// </summary>
    public static string ChildDigest(string kind, string name, params (string Key, string Value)[] env)
    {
        var (code, output, err) = ChildProcess.Run("Sim.Specs.dll", ["conformance-child", kind, name], env);
        Assert.True(code == 0, $"conformance child exited {code}: {err}");
        return output.Trim();
    }
}

/// <summary>
/// The entry point of Sim.Specs.dll when run as a program (the test host does not use it): <c>conformance-child model
/// NAME</c> or <c>conformance-child rule NAME</c> prints the digest of that sample, so that a spec can run it in a child
/// process under another vector width.
/// </summary>
public static class ConformanceChild
{
    /// <summary>Prints the requested digest; exit 0, or 2 for bad arguments.</summary>
    public static int Main(string[] args)
    {
        if (args is not ["conformance-child", var kind, var name] || kind is not ("model" or "rule")
            || (kind == "model" ? !ModelRegistry.TryGet(name, out _) : !RuleRegistry.Names.Contains(name)))
        {
            Console.Error.WriteLine($"usage: Sim.Specs.dll conformance-child model|rule NAME (models: {string.Join(", ", ModelRegistry.Names)}; rules: {string.Join(", ", RuleRegistry.Names)})");
            return 2;
        }
        Console.WriteLine(kind == "model" ? Conformance.ModelDigest(name) : Conformance.RuleDigest(name));
        return 0;
    }
}
