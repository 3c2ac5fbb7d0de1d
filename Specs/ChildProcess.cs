using System.Diagnostics;

namespace Sim.Specs;

/// <summary>Runs an assembly of the test output folder in a child <c>dotnet</c> process (other environment, other vector width).</summary>
internal static class ChildProcess
{
    /// <summary>
    /// Runs <c>dotnet DLL ARGS</c> from the test output folder with extra environment variables and waits for it;
    /// both streams are read concurrently, so a child that writes much to either cannot block.
    /// </summary>
    public static (int ExitCode, string Out, string Err) Run(string dll, IEnumerable<string> args, params (string Key, string Value)[] env)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, stderr.GetAwaiter().GetResult());
    }
}
