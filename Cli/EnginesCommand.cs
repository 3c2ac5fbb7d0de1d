using System.CommandLine;
using Sim.EventCore.Models;
using Sim.Experiments;

namespace Sim.Cli;

/// <summary><c>sim engines</c>: the engines with what each supports, and the registered neuron models.</summary>
public static class EnginesCommand
{
    /// <summary>The definition of <c>sim engines</c>.</summary>
    internal static Command Build(CliIO io) =>
        new SimCommand("engines", "The engines, what each supports, the registered neuron models and the plasticity rules.").Does(_ => Execute(io.Out));

    /// <summary>Prints the tables; returns the exit code.</summary>
    public static int Execute(TextWriter stdout)
    {
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
