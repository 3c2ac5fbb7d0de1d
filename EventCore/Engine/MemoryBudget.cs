namespace Sim.EventCore.Engine;

/// <summary>
/// How much memory a network, its engine and its instances may take when nobody says (docs/reliability.md, "Memory"):
/// 80 % of what this process can still get, i.e. of the smaller of the runtime's limit
/// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: physical memory or the container's limit) and the memory the
/// kernel reports available (<c>MemAvailable</c> in <c>/proc/meminfo</c>) plus what the process already holds. Other
/// programs' use is thus taken into account, so that a run the checks admit is not killed for lack of memory.
/// </summary>
public static class MemoryBudget
{
    /// <summary>The fraction of the available memory a run may plan to use.</summary>
    public const double Fraction = 0.8;

    /// <summary>
    /// Resident memory per byte of an instance's small and medium arrays (below <see cref="LargeObjectBytes"/>): the
    /// garbage collector keeps room beside them. Measured with <c>sim run --duration-ms 0</c> on .NET 10 (workstation GC,
    /// 2026-12-04): 1.31 for CUBA (4000 neurons, 0.55 MiB per instance, batch 20 to 200), 1.58–1.60 for 100 neurons
    /// (81 KiB per instance, batch 5000 and 20 000). The middle is taken, so estimates hold within about 10 %.
    /// </summary>
    public const double InstanceHeapFactor = 1.45;

    /// <summary>The size from which the runtime allocates an array on the large-object heap (pages of its own).</summary>
    public const int LargeObjectBytes = 85_000;

    /// <summary>What the runtime itself adds after start-up while a run compiles and runs (JIT, type loading), measured as above: 12–14 MiB.</summary>
    public const long RuntimeGrowthBytes = 12L << 20;

    /// <summary>The default budget in bytes, or <paramref name="explicitBytes"/> when given.</summary>
    public static long Resolve(long? explicitBytes) => explicitBytes ?? Default();

    /// <summary>The default budget in bytes (see the class summary).</summary>
    public static long Default()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (KernelAvailableBytes() is { } available)
            limit = Math.Min(limit, available + Environment.WorkingSet);
        return (long)(limit * Fraction);
    }

    /// <summary><c>MemAvailable</c> of <c>/proc/meminfo</c> in bytes; null where there is none (not Linux).</summary>
    public static long? KernelAvailableBytes() => ProcKiB("/proc/meminfo", "MemAvailable:");

    /// <summary>Peak resident memory of this process so far (<c>VmHWM</c> of <c>/proc/self/status</c>), in bytes; null where unknown.</summary>
    public static long? PeakResidentBytes() => ProcKiB("/proc/self/status", "VmHWM:");

    /// <summary>The "KEY  N kB" line of a /proc file in bytes (spaces or a tab after the key); null where there is none.</summary>
    private static long? ProcKiB(string file, string key)
    {
        try
        {
            if (!File.Exists(file)) return null;
            foreach (string line in File.ReadLines(file))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }

    /// <summary>Bytes in GiB for messages.</summary>
    public static string GiB(double bytes) => (bytes / (1L << 30)).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + " GiB";
}
