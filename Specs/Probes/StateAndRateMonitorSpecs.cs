using Sim.EventCore.Engine;
using Sim.Probes.Rates;
using Sim.Probes.Spikes;
using Sim.Probes.State;
using Xunit;
using static Sim.Specs.Probes.ProbeTestSupport;

namespace Sim.Specs.Probes;

/// <summary>Records what a plain observer reads directly, at every tick.</summary>
internal sealed class ReadingObserver(int population, string variable, int index) : IStepObserver
{
    public readonly Dictionary<long, double> Values = [];
    public void OnStep(int instance, long tick, IStateReader state) => Values[tick] = state.Read(population, variable, index);
}

public sealed class StateMonitorSpecs
{
    [Fact]
    public void Samples_every_k_ticks_with_the_values_of_those_ticks()
    {
        var net = SmallCuba(50);
        using var engine = Engine(net);
        int[] indices = [0, 5, 17];
        var monitor = new StateMonitor(net, "exc", ["v_mv", "g_exc_mv"], indices, intervalMs: 0.5);
        var direct = new ReadingObserver(net.Population("exc").Index, "v_mv", 5);
        engine.AddObserver(monitor);
        engine.AddObserver(direct);
        engine.Run(net.DurationTicks);

        Assert.Equal(5, monitor.IntervalTicks);
        int samples = monitor.SampleCount(0);
        Assert.Equal(net.DurationTicks / 5, samples);
        var ticks = monitor.SampleTicks(0);
        Assert.Equal(Enumerable.Range(1, samples).Select(s => 5L * s - 1), ticks);
        Assert.Equal(ticks.Select(t => (t + 1) * net.DtMs), monitor.TimesMs(0));

        var v = monitor.Values(0, "v_mv");
        for (int s = 0; s < samples; s++) Assert.Equal(direct.Values[ticks[s]], v[s, 1]);
        // The last sample is the state at the end of the run.
        var endV = engine.GetVariable(0, "exc", "v_mv");
        var endG = engine.GetVariable(0, "exc", "g_exc_mv");
        var g = monitor.Values(0, "g_exc_mv");
        for (int j = 0; j < indices.Length; j++)
        {
            Assert.Equal(endV[indices[j]], v[samples - 1, j]);
            Assert.Equal(endG[indices[j]], g[samples - 1, j]);
        }
        Assert.NotEqual(v[0, 0], v[samples - 1, 0]);
    }

    [Fact]
    public void Grows_past_the_presized_duration_and_keeps_instances_apart()
    {
        var net = SmallCuba(10);
        using var engine = Engine(net, batch: 2, threads: 2);
        var monitor = new StateMonitor(net, "inh", ["v_mv"], [3], intervalMs: 0.1, batchSize: 2, firstInstance: engine.FirstInstance);
        engine.AddObserver(monitor);
        engine.Run(net.DurationTicks * 5); // five times what the monitor pre-sized for
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(net.DurationTicks * 5, monitor.SampleCount(b));
            Assert.Equal(engine.GetVariable(b, "inh", "v_mv")[3], monitor.Values(b, "v_mv")[monitor.SampleCount(b) - 1, 0]);
        }
    }

    [Fact]
    public void Rejects_unknown_variables_and_indices()
    {
        var net = SmallCuba(10);
        Assert.Throws<ArgumentException>(() => new StateMonitor(net, "exc", ["w"], [0], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StateMonitor(net, "exc", ["v_mv"], [800], 1));
    }
}

public sealed class PopulationRateMonitorSpecs
{
    [Fact]
    public void Bin_counts_add_up_to_the_spike_counts_and_rates_follow()
    {
        var net = SmallCuba(205);
        using var engine = Engine(net, batch: 2, threads: 2);
        using var spikes = new SpikeMonitor(net, batchSize: 2, firstInstance: engine.FirstInstance);
        var exc = new PopulationRateMonitor(net, "exc", binMs: 10, batchSize: 2, firstInstance: engine.FirstInstance);
        var inh = new PopulationRateMonitor(net, "inh", binMs: 10, batchSize: 2, firstInstance: engine.FirstInstance);
        engine.AddSpikeSink(spikes);
        engine.AddSpikeSink(exc);
        engine.AddSpikeSink(inh);
        engine.Run(net.DurationTicks);

        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(21, exc.BinCount(b)); // 20 full bins and a half one
            Assert.Equal(spikes.SpikeCount(b, "exc"), exc.Counts(b).Sum());
            Assert.Equal(spikes.SpikeCount(b, "inh"), inh.Counts(b).Sum());
            var s = spikes.GetSpikes(b, "exc");
            var counts = exc.Counts(b);
            Assert.Equal(s.TimesMs.Count(t => t >= 30 - 1e-9 && t < 40 - 1e-9), counts[3]);
            var rates = exc.RatesHz(b);
            Assert.Equal(counts[3] / (exc.Size * 0.010), rates[3], 9);
            Assert.Equal(counts[20] / (exc.Size * 0.005), rates[20], 9);
            Assert.Equal(200.0, exc.BinStartsMs(b)[20], 9);
        }
    }
}
