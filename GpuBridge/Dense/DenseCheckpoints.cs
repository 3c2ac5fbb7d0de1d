using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;
using Sim.EventCore.Plasticity;
using static TorchSharp.torch;

namespace Sim.GpuBridge;

/// <summary>
/// The dense engine's state in the engine-neutral checkpoint format: per instance the populations' stored variables and
/// last-spike ticks, the source spikes of the ring's last D ticks (pending deliveries), the Poisson generators and the
/// plastic state; loading rebuilds the ring from those spikes.
/// </summary>
internal static class DenseCheckpoints
{
    public static Checkpoint Capture(CompiledNetwork net, long tick, int firstInstance, int batch, DenseDelivery delivery, DenseInputs inputs,
        DensePopulation[] pops, InstancePlasticity[]? plastic)
    {
        var instances = new InstanceCheckpoint[batch];
        var states = pops.Select(p => p.StateArrays().ToArray()).ToArray();
        var lasts = pops.Select(p => p.LastSpikeArray()).ToArray();
        // Pending source spikes: ticks Tick − D … Tick − 1 of the ring.
        int d = delivery.Slots - 1;
        var history = new List<(long Tick, double[] Counts)>();
        for (long tp = Math.Max(0, tick - d); tp < tick; tp++) history.Add((tp, delivery.CountsAt(tp)));
        for (int k = 0; k < batch; k++)
        {
            var state = new Dictionary<string, double[]>();
            var last = new long[net.NeuronCount];
            Array.Fill(last, InstanceCheckpoint.NeverSpiked);
            for (int i = 0; i < pops.Length; i++)
            {
                var pop = pops[i].Pop;
                foreach (var (name, values) in states[i]) state[$"{pop.Name}.{name}"] = values.AsSpan(k * pop.Size, pop.Size).ToArray();
                if (pops[i].External is { } held) state[pop.Name + InstanceCheckpoint.TickInputSuffix] = held.AsSpan(k * pop.Size, pop.Size).ToArray();
                if (pops[i].Clamp is { } clamp) state[pop.Name + InstanceCheckpoint.ClampSuffix] = InstanceCheckpoint.EncodeClamp(clamp.AsSpan(k * pop.Size, pop.Size));
                if (lasts[i] is { } l) l.AsSpan(k * pop.Size, pop.Size).CopyTo(last.AsSpan(pop.Offset));
            }
            var hTicks = new List<long>(); var hSrc = new List<int>(); var hCount = new List<int>();
            foreach (var (tp, counts) in history)
                for (int src = 0; src < net.SourceCount; src++)
                {
                    double c = counts[k * net.SourceCount + src];
                    if (c != 0) { hTicks.Add(tp); hSrc.Add(src); hCount.Add((int)c); }
                }
            var (next, count) = inputs.Poisson(k);
            instances[k] = new InstanceCheckpoint
            {
                State = state, LastSpike = last, HistoryTicks = [.. hTicks], HistorySources = [.. hSrc], HistoryCounts = [.. hCount],
                PoissonNextMs = (double[])next.Clone(), PoissonCount = (long[])count.Clone(),
                Plastic = plastic?[k].Capture(),
            };
        }
        return new Checkpoint { NetworkFingerprint = Checkpoint.Fingerprint(net), Tick = tick, FirstInstance = firstInstance, Instances = instances };
    }

    public static void Load(CompiledNetwork net, Checkpoint checkpoint, int batch, DenseDelivery delivery, DenseInputs inputs, DensePopulation[] pops, InstancePlasticity[]? plastic)
    {
        long tick = checkpoint.Tick;
        int slots = delivery.Slots;
        var ring = new double[slots * batch * net.SourceCount];
        for (int k = 0; k < batch; k++)
        {
            var c = checkpoint.Instances[k];
            for (int j = 0; j < c.HistoryTicks.Length; j++)
            {
                long tp = c.HistoryTicks[j];
                if (tp < tick - (slots - 1) || tp >= tick) continue;
                ring[((tp % slots) * batch + k) * net.SourceCount + c.HistorySources[j]] += c.HistoryCounts[j];
            }
            inputs.Restore(k, c.PoissonNextMs, c.PoissonCount);
            if (plastic is not null)
                plastic[k].Restore(c.Plastic ?? throw new InvalidDataException("the checkpoint holds no plastic state, but this engine has plasticity rules"));
            else if (c.Plastic is not null)
                throw new InvalidDataException("the checkpoint holds plastic state (learned weights, traces, rule state); add the same plasticity rules before restoring");
        }
        using (no_grad())
        {
            delivery.Load(ring);
            foreach (var p in pops) p.RestoreState(checkpoint);
        }
    }
}
