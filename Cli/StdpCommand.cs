using System.CommandLine;
using Sim.Cli.Commands;
using Sim.Experiments;
using Sim.Plasticity;

namespace Sim.Cli;

/// <summary>
/// <c>sim task stdp</c>: the pairing protocols of spike-timing-dependent plasticity (docs/tasks/stdp.md): the STDP window
/// of pair STDP against its closed form, or the frequency dependence of triplet STDP (Pfister &amp; Gerstner 2006).
/// </summary>
public static class StdpCommand
{
    /// <summary>The definition of <c>sim task stdp</c>.</summary>
    internal static Command Build(CliIO io)
    {
        var protocol = SimOptions.Choice("--protocol", "window: pair STDP, weight change vs dt = t_post - t_pre against the closed form; frequency: triplet STDP, weight change vs pairing frequency at dt = +10 and -10 ms", "window", "window", "frequency");
        var pairing = SimOptions.Choice("--pairing", "window: all-to-all or nearest-neighbour pairing", "all_to_all", "all_to_all", "nearest");
        var mu = SimOptions.Positive("--mu", "window: weight dependence mu+ = mu- (0 additive, 1 multiplicative; default 0)", "X", 0.0, allowZero: true);
        var pairings = SimOptions.Int("--pairings", "pairings per cell (default 60)", 1, 60);
        var engine = SimOptions.Engine("grid engine: event or dense (the same bits)", "event", "dense");
        var noPlot = SimOptions.NoPlot("the figure");
        var outDir = SimOptions.Out("write DIR/stdp-window.csv or DIR/triplet-frequency.csv, DIR/summary.txt and the figure DIR/stdp-window.png or DIR/triplet-frequency.png");
        var cmd = new SimCommand("stdp", "Pairing protocols of spike-timing-dependent plasticity (docs/tasks/stdp.md): --protocol window measures the STDP window of pair STDP (60 pairings at 1 Hz per dt, NEST stdp_synapse semantics) against its closed form; --protocol frequency the weight change of triplet STDP against the pairing frequency (Pfister & Gerstner 2006, visual-cortex parameters).", """
            Each dt (or frequency and dt) is one synapse between a spike generator and a neuron forced to fire; the weight
            change is the rule's float64 weight after the run. Exit codes: 0 ok, 2 bad arguments.
            """)
        { protocol, pairing, mu, pairings, engine, noPlot, outDir };
        return cmd.Does(r =>
        {
            string? dir = r.GetValue(outDir);
            if (dir is not null) OutputFolder.EnsureWritable(dir, "--out");
            string summary, csvName, csv;
            Func<string, string> plot;
            if (r.GetValue(protocol) == "window")
            {
                double m = r.GetValue(mu);
                var o = new StdpWindowOptions { Pairings = r.GetValue(pairings), Engine = r.GetValue(engine)! };
                o = o with { Rule = o.Rule with { MuPlus = m, MuMinus = m, Pairing = r.GetValue(pairing) == "nearest" ? StdpPairing.Nearest : StdpPairing.AllToAll } };
                var result = StdpProtocols.Window(o);
                (summary, csvName, csv) = (result.Summary(), "stdp-window", result.Csv());
                plot = path => StdpPlots.Window(result, path);
            }
            else
            {
                if (r.GetResult(pairing) is { Implicit: false } || r.GetResult(mu) is { Implicit: false })
                    throw new UsageException("options --pairing and --mu apply to --protocol window only");
                var result = StdpProtocols.Frequency(new TripletFrequencyOptions { Pairings = r.GetValue(pairings), Engine = r.GetValue(engine)! });
                (summary, csvName, csv) = (result.Summary(), "triplet-frequency", result.Csv());
                plot = path => StdpPlots.Frequency(result, path);
            }
            io.Out.Write(summary);
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, csvName + ".csv"), csv);
                File.WriteAllText(Path.Combine(dir, "summary.txt"), summary);
                io.Out.WriteLine($"wrote {Path.Combine(dir, csvName + ".csv")}, {Path.Combine(dir, "summary.txt")}");
                if (!r.GetValue(noPlot)) io.Out.WriteLine($"wrote {plot(Path.Combine(dir, csvName + ".png"))}");
            }
            return ExitCodes.Ok;
        });
    }
}
