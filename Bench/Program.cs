using BenchmarkDotNet.Running;

namespace Sim.Bench;

/// <summary>BenchmarkDotNet entry: <c>dotnet run -c Release --project Bench -- --filter '*'</c>; <c>-- stdp-cost [N]</c> runs <see cref="StdpCost"/>.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks selected on the command line.</summary>
    public static void Main(string[] args)
    {
        // A plain macro run outside BenchmarkDotNet: the STDP cost bar (docs/rules/stdp.md, BENCHMARKS.md).
        if (args is ["stdp-cost", ..]) { StdpCost.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 7, Console.Out); return; }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
