using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.Probes.Rates;
using Sim.Probes.Spikes;
using Sim.Probes.State;

namespace Sim.Probes;

/// <summary>The monitors of one run, as the network description asks for them (<see cref="NetworkSpec.Monitors"/>).</summary>
public sealed class MonitorSet : IDisposable
{
    /// <summary>Groups existing monitors.</summary>
    public MonitorSet(SpikeMonitor? spikes, IReadOnlyList<StateMonitor>? states = null, IReadOnlyList<PopulationRateMonitor>? rates = null)
    {
        Spikes = spikes;
        States = states ?? [];
        Rates = rates ?? [];
    }

    /// <summary>
    /// Creates the monitors listed in the network's spec: one <see cref="SpikeMonitor"/> for the union of every
    /// <see cref="SpikeMonitorSpec"/> (none when there is none; a spec with no population means all), one
    /// <see cref="StateMonitor"/> per <see cref="StateMonitorSpec"/>, one <see cref="PopulationRateMonitor"/> per
    /// <see cref="RateMonitorSpec"/>.
    /// </summary>
    public static MonitorSet FromSpec(CompiledNetwork network, int batchSize = 1, int firstInstance = 0, SpikeMonitorOptions? spikeOptions = null,
        long startTick = 0)
    {
        var monitors = network.Spec.Monitors;
        var spikeSpecs = monitors.OfType<SpikeMonitorSpec>().ToArray();
        SpikeMonitor? spikes = null;
        if (spikeSpecs.Length > 0)
        {
            bool all = spikeSpecs.Any(s => s.Populations.Length == 0);
            spikes = new SpikeMonitor(network, all ? null : spikeSpecs.SelectMany(s => s.Populations), batchSize, firstInstance, spikeOptions);
        }
        return new MonitorSet(spikes,
            [.. monitors.OfType<StateMonitorSpec>().Select(s => new StateMonitor(network, s, batchSize, firstInstance))],
            [.. monitors.OfType<RateMonitorSpec>().Select(s => new PopulationRateMonitor(network, s, batchSize, firstInstance, startTick))]);
    }

    /// <summary>
    /// Bytes the state and rate monitors of <paramref name="network"/>'s spec will hold for a run of
    /// <paramref name="batchSize"/> instances from <paramref name="startTick"/> to its duration, and what writing them
    /// to run.h5 copies: per state monitor S samples (duration / interval + 1) of P = variables × neurons values,
    /// batch × S × (8P + 8) recorded plus batch × S × 8P + S × 8 (n + 1) for the write; per rate monitor 3 × batch ×
    /// bins × 8. Spikes stream to disk and are not counted here (their chunks are, see
    /// <see cref="SpikeMonitorOptions.ChunkBytes"/>). Known before anything is allocated, so a run whose recording would
    /// not fit can be refused.
    /// </summary>
    public static double EstimateBytes(CompiledNetwork network, int batchSize, long startTick = 0)
    {
        double bytes = 0;
        long ticks = Math.Max(0, network.DurationTicks - startTick);
        foreach (var m in network.Spec.Monitors)
            switch (m)
            {
                case StateMonitorSpec s:
                    {
                        double samples = network.DurationTicks / (double)Math.Max(1, TimeGrid.Ticks(s.IntervalMs, network.DtMs)) + 1;
                        double perSample = s.Variables.Length * (double)s.Indices.Length;
                        bytes += batchSize * samples * (8 * perSample + 8) + batchSize * samples * 8 * perSample + samples * 8 * (s.Indices.Length + 1);
                        break;
                    }
                case RateMonitorSpec r:
                    bytes += 3.0 * batchSize * (ticks / (double)Math.Max(1, TimeGrid.Ticks(r.BinMs, network.DtMs)) + 2) * 8;
                    break;
            }
        return bytes;
    }

    /// <summary><see cref="FromSpec"/> for an engine's network and batch, attached to the engine.</summary>
    public static MonitorSet Attach(ISimulationEngine engine, SpikeMonitorOptions? spikeOptions = null)
    {
        var set = FromSpec(engine.Network, engine.BatchSize, engine.FirstInstance, spikeOptions, engine.Tick);
        set.AttachTo(engine);
        return set;
    }

    /// <summary>The spike monitor, if any.</summary>
    public SpikeMonitor? Spikes { get; }
    /// <summary>State monitors.</summary>
    public IReadOnlyList<StateMonitor> States { get; }
    /// <summary>Population rate monitors.</summary>
    public IReadOnlyList<PopulationRateMonitor> Rates { get; }

    /// <summary>Adds every monitor to an engine as sink or observer.</summary>
    public void AttachTo(ISimulationEngine engine)
    {
        if (Spikes is not null) engine.AddSpikeSink(Spikes);
        foreach (var r in Rates) engine.AddSpikeSink(r);
        foreach (var s in States) engine.AddObserver(s);
    }

    /// <summary>Flushes the spike monitor (see <see cref="SpikeMonitor.Flush"/>).</summary>
    public void Flush() => Spikes?.Flush();

    /// <summary>Disposes the spike monitor (closes its stream).</summary>
    public void Dispose() => Spikes?.Dispose();
}
