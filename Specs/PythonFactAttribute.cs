using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit;

namespace Sim.Specs;

/// <summary>
/// A <see cref="FactAttribute"/> for specs that run a script of the repository with Debian's Python
/// (<see cref="Python.Interpreter"/>): it skips itself, with the reason, where that interpreter or one of the named
/// modules is missing (<c>.ci/run</c> installs them where apt is available).
/// </summary>
public sealed class PythonFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> unless every module in <paramref name="modules"/> imports.</summary>
    public PythonFactAttribute(params string[] modules)
    {
        if (Python.Missing(modules) is { } reason) Skip = reason;
    }
}

/// <summary>Runs <c>/usr/bin/python3</c> (Debian's, which has the python3-* packages; not the first python3 on PATH).</summary>
internal static class Python
{
    public const string Interpreter = "/usr/bin/python3";
    private static readonly ConcurrentDictionary<string, bool> Imports = new();

    /// <summary>The repository root (the folder above Specs/).</summary>
    public static string Root() => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ThisFile())!, ".."));

    private static string ThisFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    /// <summary>Why the modules cannot be used (the skip reason), or null when they all import.</summary>
    public static string? Missing(params string[] modules)
    {
        if (!File.Exists(Interpreter)) return $"{Interpreter} is not installed";
        var missing = modules.Where(m => !Imports.GetOrAdd(m, name => Run(TimeSpan.FromSeconds(60), "-c", $"import {name}").ExitCode == 0)).ToArray();
        return missing.Length == 0 ? null
            : $"{Interpreter} lacks the module(s) {string.Join(", ", missing)} (Debian: apt-get install {string.Join(" ", missing.Select(m => "python3-" + m))})";
    }

    /// <summary>Runs the interpreter with <paramref name="args"/>; both streams are read concurrently; killed after <paramref name="timeout"/>.</summary>
    public static (int ExitCode, string Out, string Err) Run(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root() };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";   // no __pycache__ in scripts/
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, stdout.GetAwaiter().GetResult(), $"timed out after {timeout.TotalSeconds} s\n" + stderr.GetAwaiter().GetResult());
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
