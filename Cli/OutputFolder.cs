namespace Sim.Cli;

/// <summary>
/// The checks every command makes on the folders named on its command line, before any work is done, so that a
/// mistyped or unwritable path is a clear usage error (exit 2) rather than an exception after minutes of work.
/// </summary>
internal static class OutputFolder
{
    /// <summary>
    /// Creates <paramref name="path"/> (and its parents) if needed and checks that a file can be written in it.
    /// </summary>
    /// <param name="path">The folder.</param>
    /// <param name="option">The option that named it, for the message (e.g. "--out").</param>
    /// <exception cref="UsageException">The path is a file, or the folder cannot be created or written.</exception>
    public static string EnsureWritable(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{option}: empty path");
        if (File.Exists(path)) throw new UsageException($"{option} '{path}' is a file; give a folder");
        try
        {
            Directory.CreateDirectory(path);
            string probe = Path.Combine(path, $".sim-write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"{option} '{path}': cannot create or write the folder ({e.Message})");
        }
        return path;
    }

    /// <summary>Checks that every folder of a <c>--merge</c> list exists and holds a <c>cells</c> folder.</summary>
    /// <exception cref="UsageException">One does not.</exception>
    public static void EnsureSweepFolders(IEnumerable<string> dirs)
    {
        foreach (string dir in dirs)
        {
            if (!Directory.Exists(dir)) throw new UsageException($"--merge: '{dir}' does not exist or is not a folder");
            if (!Directory.Exists(Path.Combine(dir, "cells"))) throw new UsageException($"--merge: '{dir}' holds no cells/ folder (not a sweep output folder)");
        }
    }
}
