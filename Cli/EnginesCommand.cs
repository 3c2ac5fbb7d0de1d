using Sim.EventCore.Models;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary><c>sim engines</c>: the engines with what each supports, and the registered neuron models.</summary>
public static class EnginesCommand
{
    /// <summary>Help text.</summary>
    public const string Help = """
        usage: sim engines

        Lists the engines (the values of --engine) with what each supports, the registered neuron models
        with the engines that run them, and the registered plasticity rules (they run on the grid engines).
        Exit codes: 0 ok, 2 bad arguments.
        """;

    /// <summary>Prints the listing; returns the exit code.</summary>
    public static int Execute(string[] args, TextWriter stdout)
    {
        if (args.Length > 0)
        {
            if (args[0] is "-h" or "--help") throw new HelpRequested(Help);
            throw new UsageException($"unknown option '{args[0]}' for engines");
        }
        static string Yes(bool b) => b ? "yes" : "-";
        stdout.WriteLine("engine       batch  plasticity  tick-io  checkpoints  escape-noise  clocks  varying-currents  guards  what");
        foreach (var e in EngineFactory.Engines)
            stdout.WriteLine($"{e.Name,-12} {Yes(e.Batch),-6} {Yes(e.Plasticity),-11} {Yes(e.TickIO),-8} {Yes(e.Checkpoints),-12} {Yes(e.EscapeNoise),-13} {Yes(e.ClockInputs),-7} {Yes(e.TimeVaryingCurrents),-17} {Yes(e.RunGuards),-7} {e.Summary}");
        stdout.WriteLine();
        stdout.WriteLine("model        engines                          what (contract: docs/models/<model>.md)");
        foreach (var m in ModelRegistry.All)
        {
            var engines = string.Join(", ", EngineFactory.Engines.Where(e => e.Models.Contains(m.Name)).Select(e => e.Name));
            stdout.WriteLine($"{m.Name,-12} {engines,-32} {m.Summary}");
        }
        stdout.WriteLine();
        stdout.WriteLine("rule         contract                         what");
        foreach (var r in Sim.Plasticity.RuleRegistry.All)
            stdout.WriteLine($"{r.Name,-12} {r.DocPage,-32} {r.Summary}");
        return ExitCodes.Ok;
    }
}
