using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Numerics;

namespace Sim.Fuzz;

/// <summary>
/// Soak (docs/reliability.md, "Soak"): a long run of a small network (batch 2, Poisson input, random delays) is run once
/// without interruption and once cut at random ticks; at every cut the state goes through a checkpoint file (written,
/// read back, checksum checked) into a fresh engine, which runs on. The spikes of the two runs (hashed in order) and their
/// final checkpoints must be identical bit for bit.
/// </summary>
public static class Soak
{
    /// <summary>A hash of each instance's spikes in order (instances run independently: their calls interleave freely).</summary>
    private sealed class SpikeHash : ISpikeSink
    {
        private readonly XxHash3[] _hash = [new(), new()];
        public long Spikes;
        public void OnSpikes(int instance, long tick, ReadOnlySpan<int> neurons)
        {
            Span<long> head = [tick, neurons.Length];
            _hash[instance].Append(MemoryMarshal.AsBytes(head));
            _hash[instance].Append(MemoryMarshal.AsBytes(neurons));
            Spikes += neurons.Length;
        }
        public ulong Value => _hash[0].GetCurrentHashAsUInt64() ^ (_hash[1].GetCurrentHashAsUInt64() * 0x9E3779B97F4A7C15UL);
    }

    /// <summary>Runs the soak; returns the process exit code (0: identical).</summary>
    public static int Run(long ticks, int interruptions, ulong seed, TextWriter output)
    {
        var spec = NetworkFile.Parse(FuzzTargets.CheckpointNetwork.Replace("duration_ms: 50, seed: 4", $"duration_ms: {ticks / 10.0}, seed: {seed}, batch: 2"), "soak.yaml");
        var net = NetworkCompiler.Compile(spec);
        var clock = Stopwatch.StartNew();

        var whole = new SpikeHash();
        byte[] wholeFinal;
        using (var e = new EventEngine(net, new EngineOptions { Threads = 1 }))
        {
            e.AddSpikeSink(whole);
            e.Run(ticks);
            wholeFinal = e.SaveCheckpoint().Serialize();
        }

        // Cut points: distinct ticks drawn from the counter RNG, ascending.
        ulong key = CounterRng.Key(seed, 0x50A4, 0, 0);
        var cuts = Enumerable.Range(0, interruptions).Select(k => 1 + (long)(CounterRng.Uniform01(CounterRng.Word(key, (ulong)k)) * (ticks - 1)))
            .Distinct().Order().ToList();
        string file = Path.Combine(Path.GetTempPath(), $"sim-soak-{Environment.ProcessId}.ckpt");
        var cut = new SpikeHash();
        byte[] cutFinal;
        long at = 0;
        var engine = new EventEngine(net, new EngineOptions { Threads = 1 });
        try
        {
            engine.AddSpikeSink(cut);
            foreach (long c in cuts.Append(ticks))
            {
                engine.Run(c - at);
                at = c;
                if (c == ticks) break;
                engine.SaveCheckpoint().Save(file);
                engine.Dispose();
                engine = new EventEngine(net, new EngineOptions { Threads = 1 });
                engine.Restore(Checkpoint.Load(file));
                engine.AddSpikeSink(cut);
            }
            cutFinal = engine.SaveCheckpoint().Serialize();
        }
        finally
        {
            engine.Dispose();
            File.Delete(file);
        }
        bool same = whole.Value == cut.Value && whole.Spikes == cut.Spikes && wholeFinal.AsSpan().SequenceEqual(cutFinal);
        output.WriteLine($"soak: {ticks:N0} ticks x 2 instances, {whole.Spikes:N0} spikes, {cuts.Count} interruptions (checkpoint file, fresh engine, resume), " +
            $"{clock.Elapsed.TotalSeconds:F0} s: {(same ? "spikes and final state identical" : $"DIFFERENT (spikes {whole.Spikes} vs {cut.Spikes}, hash {whole.Value:x16} vs {cut.Value:x16}, final state {(wholeFinal.AsSpan().SequenceEqual(cutFinal) ? "same" : "differs")})")}");
        return same ? 0 : 1;
    }
}
