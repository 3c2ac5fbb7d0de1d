using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Sim.EventCore.Plasticity;

namespace Sim.EventCore.Engine;

/// <summary>
/// The full simulation state at a tick, in a form every engine can write and resume from (Brian2 <c>store()</c>/<c>restore()</c>):
/// per instance, the neuron state arrays in the model frames (LifExp: u_mv, g_exc_mv, g_inh_mv; LifDelta: u_mv;
/// GoalLif: v, z, hz, ej), the last spike tick of every neuron, the source spikes (neurons and inputs) of the last
/// D_max ticks whose deliveries are still pending, the Poisson generators' next spike times and counters, and with
/// plasticity rules the instance's plastic weights, traces, per-synapse state and rule state.
/// Spike-time cursors, clocks and currents are functions of the tick and are not stored.
/// A resumed run equals the uninterrupted one bit for bit, whichever engine wrote or reads the checkpoint.
/// <para>
/// Integrity (docs/reliability.md, "Checkpoints"): format 3 is the magic <c>SIMCKPT3</c>, the format version, the body,
/// and an XxHash3 (64-bit, System.IO.Hashing) of everything before it; <see cref="Load"/> refuses a file whose checksum
/// does not match, that is truncated or has trailing bytes, and <see cref="EnsureMatches"/> refuses values no engine
/// could have written (non-finite state, indices or ticks out of range). Formats 1 and 2 (no checksum) are still read.
/// </para>
/// </summary>
public sealed class Checkpoint
{
    private const string Magic = "SIMCKPT3";
    private const string MagicVersion2 = "SIMCKPT2";
    private const string MagicWithoutPlasticity = "SIMCKPT1";
    /// <summary>The format version written by <see cref="Save"/>.</summary>
    public const int FormatVersion = 3;
    private const int ChecksumBytes = sizeof(ulong);

    /// <summary>The resolved network configuration the state belongs to (compared on restore).</summary>
    public required string NetworkFingerprint { get; init; }
    /// <summary>The next tick to run.</summary>
    public required long Tick { get; init; }
    /// <summary>Instance index of batch element 0.</summary>
    public required int FirstInstance { get; init; }
    /// <summary>Per batch element.</summary>
    public required InstanceCheckpoint[] Instances { get; init; }

    /// <summary>Writes the checkpoint (to a temporary file renamed into place, so a crash never leaves a truncated one).</summary>
    public void Save(string path)
    {
        string tmp = path + ".partial";
        using (var file = File.Create(tmp))
        {
            file.Write(Serialize());
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The file's bytes: header, body and checksum (format <see cref="FormatVersion"/>).</summary>
    public byte[] Serialize()
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write(NetworkFingerprint);
            w.Write(Tick);
            w.Write(FirstInstance);
            w.Write(Instances.Length);
            foreach (var inst in Instances)
            {
                w.Write(inst.State.Count);
                foreach (var (name, values) in inst.State.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.Write(name);
                    w.Write(values.Length);
                    foreach (double v in values) w.Write(v);
                }
                WriteLongs(w, inst.LastSpike);
                WriteLongs(w, inst.HistoryTicks);
                WriteInts(w, inst.HistorySources);
                WriteInts(w, inst.HistoryCounts);
                w.Write(inst.PoissonNextMs.Length);
                foreach (double v in inst.PoissonNextMs) w.Write(v);
                WriteLongs(w, inst.PoissonCount);
                w.Write(inst.Plastic is not null);
                if (inst.Plastic is { } plastic)
                {
                    w.Write(plastic.Longs.Count);
                    foreach (var (name, values) in plastic.Longs.OrderBy(kv => kv.Key, StringComparer.Ordinal)) { w.Write(name); WriteLongs(w, values); }
                    w.Write(plastic.Doubles.Count);
                    foreach (var (name, values) in plastic.Doubles.OrderBy(kv => kv.Key, StringComparer.Ordinal)) { w.Write(name); WriteDoubles(w, values); }
                }
            }
        }
        var bytes = new byte[buffer.Length + ChecksumBytes];
        buffer.GetBuffer().AsSpan(0, (int)buffer.Length).CopyTo(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan((int)buffer.Length), XxHash3.HashToUInt64(bytes.AsSpan(0, (int)buffer.Length)));
        return bytes;
    }

    /// <summary>
    /// Reads a checkpoint written by <see cref="Save"/>. Throws <see cref="InvalidDataException"/>, saying what is wrong,
    /// for a file that is not a checkpoint, is truncated, has trailing bytes, or (format 3) whose checksum does not match.
    /// </summary>
    public static Checkpoint Load(string path)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"{path} is a directory, not a checkpoint");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a checkpoint file (see <see cref="Load"/>); <paramref name="name"/> names it in errors.</summary>
    public static Checkpoint Parse(byte[] bytes, string name = "checkpoint")
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        try
        {
            string magic;
            try { magic = r.ReadString(); }
            catch (Exception e) when (e is FormatException or DecoderFallbackException or EndOfStreamException or IOException) { magic = ""; }
            if (magic is not (Magic or MagicVersion2 or MagicWithoutPlasticity)) throw new InvalidDataException($"{name} is not a Sim checkpoint");
            if (magic == Magic)
            {
                if (bytes.Length < ChecksumBytes + (int)r.BaseStream.Position + sizeof(int)) throw new InvalidDataException($"{name} is truncated");
                ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - ChecksumBytes));
                if (stored != XxHash3.HashToUInt64(bytes.AsSpan(0, bytes.Length - ChecksumBytes)))
                    throw new InvalidDataException($"{name} is damaged: its checksum does not match its contents (truncated, overwritten or edited)");
                int version = r.ReadInt32();
                if (version != FormatVersion) throw new InvalidDataException($"{name} has checkpoint format {version}; this version of Sim reads formats 1-{FormatVersion}");
            }
            long end = bytes.Length - (magic == Magic ? ChecksumBytes : 0);
            bool hasPlastic = magic != MagicWithoutPlasticity;
            string fingerprint = r.ReadString();
            long tick = r.ReadInt64();
            int first = r.ReadInt32();
            var instances = new InstanceCheckpoint[ReadLength(r, 1)];
            for (int b = 0; b < instances.Length; b++)
            {
                var state = new Dictionary<string, double[]>();
                int n = ReadLength(r, 1);
                for (int k = 0; k < n; k++)
                {
                    string key = r.ReadString();
                    state[key] = ReadDoubles(r);
                }
                var last = ReadLongs(r);
                var hTicks = ReadLongs(r);
                var hSrc = ReadInts(r);
                var hCount = ReadInts(r);
                var next = ReadDoubles(r);
                var count = ReadLongs(r);
                PlasticCheckpoint? plastic = null;
                if (hasPlastic && r.ReadBoolean())
                {
                    var longs = new Dictionary<string, long[]>();
                    for (int k = ReadLength(r, 1); k > 0; k--) { string key = r.ReadString(); longs[key] = ReadLongs(r); }
                    var doubles = new Dictionary<string, double[]>();
                    for (int k = ReadLength(r, 1); k > 0; k--) { string key = r.ReadString(); doubles[key] = ReadDoubles(r); }
                    plastic = new PlasticCheckpoint(longs, doubles);
                }
                instances[b] = new InstanceCheckpoint
                {
                    State = state, LastSpike = last, HistoryTicks = hTicks, HistorySources = hSrc, HistoryCounts = hCount,
                    PoissonNextMs = next, PoissonCount = count, Plastic = plastic,
                };
            }
            if (r.BaseStream.Position != end) throw new InvalidDataException($"{name} has {end - r.BaseStream.Position} bytes after its last instance (damaged or not a checkpoint)");
            return new Checkpoint { NetworkFingerprint = fingerprint, Tick = tick, FirstInstance = first, Instances = instances };
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name} is truncated");
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            throw new InvalidDataException($"{name} is damaged: {e.Message}");
        }
    }

    /// <summary>An array length that the rest of the stream can hold (a damaged length must not allocate gigabytes).</summary>
    private static int ReadLength(BinaryReader r, int elementBytes)
    {
        int n = r.ReadInt32();
        if (n < 0 || (long)n * elementBytes > r.BaseStream.Length - r.BaseStream.Position)
            throw new InvalidDataException($"checkpoint is damaged: a length of {n} at byte {r.BaseStream.Position - sizeof(int)} exceeds the file");
        return n;
    }

    private static void WriteLongs(BinaryWriter w, long[] a) { w.Write(a.Length); foreach (long x in a) w.Write(x); }
    private static void WriteInts(BinaryWriter w, int[] a) { w.Write(a.Length); foreach (int x in a) w.Write(x); }
    private static void WriteDoubles(BinaryWriter w, double[] a) { w.Write(a.Length); foreach (double x in a) w.Write(x); }
    private static double[] ReadDoubles(BinaryReader r) { var a = new double[ReadLength(r, sizeof(double))]; for (int i = 0; i < a.Length; i++) a[i] = r.ReadDouble(); return a; }
    private static long[] ReadLongs(BinaryReader r) { var a = new long[ReadLength(r, sizeof(long))]; for (int i = 0; i < a.Length; i++) a[i] = r.ReadInt64(); return a; }
    private static int[] ReadInts(BinaryReader r) { var a = new int[ReadLength(r, sizeof(int))]; for (int i = 0; i < a.Length; i++) a[i] = r.ReadInt32(); return a; }

    /// <summary>Throws unless this checkpoint belongs to <paramref name="network"/> and the instances an engine runs.</summary>
    public void EnsureMatches(Compilation.CompiledNetwork network, int firstInstance, int batch)
    {
        if (NetworkFingerprint != Fingerprint(network))
            throw new InvalidDataException("the checkpoint belongs to a different network (structure, weights, seed or dt differ)");
        if (Instances.Length != batch || FirstInstance != firstInstance)
            throw new InvalidDataException($"the checkpoint holds instances {FirstInstance}..{FirstInstance + Instances.Length - 1}, this engine runs {firstInstance}..{firstInstance + batch - 1}");
        if (Tick < 0) throw new InvalidDataException($"the checkpoint's tick is {Tick}; ticks are >= 0");
        for (int b = 0; b < Instances.Length; b++) Instances[b].Validate(network, Tick, FirstInstance + b);
        // The model may require stored values the engines rely on (GoalLif: hz and ej on their grid, which the exact
        // trace coupling needs); a damaged or foreign file is refused rather than run with diverging engines.
        foreach (var p in network.Populations)
        {
            var vars = p.Model.StateVariables;
            foreach (var inst in Instances)
                for (int v = 0; v < vars.Count; v++)
                    if (inst.State.TryGetValue($"{p.Name}.{vars[v].Name}", out var x) && p.Model.CheckStoredValues(p.Constants, v, x) is { } problem)
                        throw new InvalidDataException($"checkpoint state '{p.Name}.{vars[v].Name}'{problem}");
        }
    }

    /// <summary>A fingerprint of a compiled network: SHA-256 of its resolved description's structure and constants.</summary>
    public static string Fingerprint(Compilation.CompiledNetwork net)
    {
        using var h = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        h.AppendData(BitConverter.GetBytes(net.DtMs));
        h.AppendData(BitConverter.GetBytes(net.Seed));
        h.AppendData(BitConverter.GetBytes(net.NeuronCount));
        h.AppendData(BitConverter.GetBytes(net.SourceCount));
        foreach (int x in net.Synapses.Target) h.AppendData(BitConverter.GetBytes(x));
        foreach (int x in net.Synapses.Q) h.AppendData(BitConverter.GetBytes(x));
        foreach (int x in net.Synapses.SegmentDelay) h.AppendData(BitConverter.GetBytes(x));
        foreach (long x in net.TraceSynapses.Q) h.AppendData(BitConverter.GetBytes(x));
        foreach (var p in net.Populations) h.AppendData(Encoding.UTF8.GetBytes($"{p.Name}/{p.Model}/{p.Size}/{p.WeightFractionBits}"));
        // The trace grids give the saved trace weights and traces their meaning (a checkpoint at F = 20 must not load
        // into F = 16); hashed only where trace coupling exists, so fingerprints of other networks stay as they were.
        if (net.TraceSynapses.Count > 0)
            foreach (var p in net.Populations) h.AppendData(Encoding.UTF8.GetBytes($"trace/{p.Name}/{p.TraceWeightFractionBits}/{p.TraceInputFractionBits}"));
        return Convert.ToHexString(h.GetHashAndReset());
    }
}

/// <summary>The state of one instance in a <see cref="Checkpoint"/>.</summary>
public sealed class InstanceCheckpoint
{
    /// <summary>The last-spike tick of a neuron that has not spiked: far enough in the past that no refractory period reaches it.</summary>
    public const long NeverSpiked = long.MinValue / 4;

    /// <summary>
    /// Key of a population's held per-tick input (<see cref="ITickInputs"/>, sample-and-hold) in <see cref="State"/>:
    /// "population" + this suffix. Absent when no per-tick input was enabled; restored as zero then.
    /// </summary>
    public const string TickInputSuffix = ".@tick_input";

    /// <summary>
    /// Key of a population's held spike clamp (<see cref="ITickInputs.Clamp"/>) in <see cref="State"/>: "population" +
    /// this suffix, stored as −1 (free), 0 or 1 so that the file holds no NaN. Absent when no clamp was enabled; all free then.
    /// </summary>
    public const string ClampSuffix = ".@clamp";

    /// <summary>The clamp as stored: NaN (free) → −1.</summary>
    public static double[] EncodeClamp(ReadOnlySpan<double> clamp)
    {
        var stored = new double[clamp.Length];
        for (int i = 0; i < clamp.Length; i++) stored[i] = double.IsNaN(clamp[i]) ? -1 : clamp[i];
        return stored;
    }

    /// <summary>Writes a stored clamp back into <paramref name="clamp"/> (−1 → NaN); refuses other values than −1, 0 and 1.</summary>
    public static void DecodeClamp(ReadOnlySpan<double> stored, string population, Span<double> clamp)
    {
        if (stored.Length != clamp.Length) throw new InvalidDataException($"checkpoint's spike clamp of '{population}' has {stored.Length} values, not {clamp.Length}");
        for (int i = 0; i < stored.Length; i++)
            clamp[i] = stored[i] switch
            {
                -1 => double.NaN, 0 => 0, 1 => 1,
                _ => throw new InvalidDataException($"checkpoint's spike clamp of '{population}'[{i}] is {stored[i]:R}; expected -1 (free), 0 or 1"),
            };
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> for values no engine writes: non-finite state or plastic values, a
    /// last-spike or pending-spike tick at or after <paramref name="tick"/>, pending spikes older than the longest delay,
    /// out of order, with a source outside the network or a count below 1, and arrays of the wrong length.
    /// </summary>
    public void Validate(Compilation.CompiledNetwork network, long tick, int instance)
    {
        string where = $"checkpoint instance {instance}";
        foreach (var (key, values) in State)
            for (int i = 0; i < values.Length; i++)
                if (!double.IsFinite(values[i])) throw new InvalidDataException($"{where}: state '{key}'[{i}] is {values[i]}");
        if (LastSpike.Length != network.NeuronCount)
            throw new InvalidDataException($"{where}: {LastSpike.Length} last-spike ticks for {network.NeuronCount} neurons");
        for (int i = 0; i < LastSpike.Length; i++)
            if (LastSpike[i] >= tick && LastSpike[i] != NeverSpiked)
                throw new InvalidDataException($"{where}: neuron {i} last spiked at tick {LastSpike[i]}, not before the checkpoint's tick {tick}");
        if (HistorySources.Length != HistoryTicks.Length || HistoryCounts.Length != HistoryTicks.Length)
            throw new InvalidDataException($"{where}: pending spikes have {HistoryTicks.Length} ticks, {HistorySources.Length} sources and {HistoryCounts.Length} counts");
        for (int k = 0; k < HistoryTicks.Length; k++)
        {
            long t = HistoryTicks[k];
            if (t >= tick || t < tick - network.MaxDelayTicks || (k > 0 && t < HistoryTicks[k - 1]))
                throw new InvalidDataException($"{where}: pending spike {k} at tick {t} is outside [{tick - network.MaxDelayTicks}, {tick}) or out of order");
            if ((uint)HistorySources[k] >= (uint)network.SourceCount)
                throw new InvalidDataException($"{where}: pending spike {k} has source {HistorySources[k]}; the network has {network.SourceCount} sources");
            if (HistoryCounts[k] < 1) throw new InvalidDataException($"{where}: pending spike {k} has count {HistoryCounts[k]}");
        }
        if (PoissonNextMs.Length != network.SourceCount || PoissonCount.Length != network.SourceCount)
            throw new InvalidDataException($"{where}: {PoissonNextMs.Length} Poisson times and {PoissonCount.Length} counters for {network.SourceCount} sources");
        for (int i = 0; i < PoissonNextMs.Length; i++)
            if (double.IsNaN(PoissonNextMs[i]) || double.IsNegativeInfinity(PoissonNextMs[i]) || PoissonCount[i] < 0)
                throw new InvalidDataException($"{where}: source {i} has next Poisson time {PoissonNextMs[i]} and count {PoissonCount[i]}");
        if (Plastic is { } plastic)
            foreach (var (key, values) in plastic.Doubles)
                for (int i = 0; i < values.Length; i++)
                    if (!double.IsFinite(values[i])) throw new InvalidDataException($"{where}: plastic state '{key}'[{i}] is {values[i]}");
    }

    /// <summary>"population.variable" → values (model frames, see <see cref="Checkpoint"/>).</summary>
    public required Dictionary<string, double[]> State { get; init; }
    /// <summary>Tick of the last spike of every neuron (global id).</summary>
    public required long[] LastSpike { get; init; }
    /// <summary>Emission tick of each pending source spike group (ascending).</summary>
    public required long[] HistoryTicks { get; init; }
    /// <summary>Source id of each pending group.</summary>
    public required int[] HistorySources { get; init; }
    /// <summary>Number of spikes of the source in that tick.</summary>
    public required int[] HistoryCounts { get; init; }
    /// <summary>Next Poisson spike time per source id (0 for non-Poisson sources).</summary>
    public required double[] PoissonNextMs { get; init; }
    /// <summary>Poisson spike counter per source id.</summary>
    public required long[] PoissonCount { get; init; }
    /// <summary>The plastic state (weights of plastic projections, traces, synapse and rule state), or null without rules.</summary>
    public PlasticCheckpoint? Plastic { get; init; }
}
