using Sim.Cli;

namespace Sim.Specs.Cli;

/// <summary>Runs <c>sim</c> in-process and makes scratch folders for the CLI specs.</summary>
internal static class CliHarness
{
    public static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "sim-specs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    public static (int Code, string Out, string Err) Sim(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CommandLine.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
