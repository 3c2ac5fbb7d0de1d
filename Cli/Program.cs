namespace Sim.Cli;

/// <summary>Entry point of the <c>sim</c> tool.</summary>
public static class Program
{
    /// <summary>Runs the command line; returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    public static int Main(string[] args) => CommandLine.Run(args, Console.Out, Console.Error);
}
