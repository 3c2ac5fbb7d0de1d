using Sim.Probes.Analysis;
using Sim.Probes.Spikes;
using Xunit;
using static Sim.Specs.Probes.ProbeTestSupport;

namespace Sim.Specs.Probes;

public sealed class SpikeStatisticsSpecs
{
    [Fact]
    public void Regular_train_has_zero_isi_cv_and_zero_fano_factor()
    {
        // 10 neurons firing every 10 ms (staggered), 1 s.
        var times = new List<double>();
        var ids = new List<int>();
        for (int k = 0; k < 100; k++)
            for (int i = 0; i < 10; i++) { times.Add(k * 10.0 + i * 0.5); ids.Add(i); }
        var s = SpikeStatistics.Compute("p", 10, times.ToArray(), ids.ToArray(), durationMs: 1000, fanoWindowMs: 100);
        Assert.Equal(0.0, s.IsiCv);
        Assert.Equal(10, s.IsiCvNeurons);
        Assert.Equal(0.0, s.FanoFactor);
        Assert.Equal(100.0, s.MeanRateHz, 9);
        Assert.All(s.RatesHz, r => Assert.Equal(100.0, r, 9));
    }

    [Fact]
    public void Poisson_train_has_isi_cv_and_fano_factor_near_one()
    {
        var rng = new Random(12345);
        int n = 50;
        double rateHz = 20, durationMs = 20_000;
        var trains = new List<(double T, int N)>();
        for (int i = 0; i < n; i++)
            for (double t = -Math.Log(1 - rng.NextDouble()) * 1000 / rateHz; t < durationMs; t += -Math.Log(1 - rng.NextDouble()) * 1000 / rateHz)
                trains.Add((t, i));
        var sorted = trains.OrderBy(x => x.T).ToArray();
        var s = SpikeStatistics.Compute("p", n, sorted.Select(x => x.T).ToArray(), sorted.Select(x => x.N).ToArray(), durationMs, 200);
        Assert.InRange(s.IsiCv, 0.95, 1.05);
        Assert.InRange(s.FanoFactor, 0.85, 1.15);
        Assert.InRange(s.MeanRateHz, 19, 21);
    }

    [Fact]
    public void Isi_cv_ignores_neurons_with_fewer_than_three_spikes()
    {
        // Neuron 0: ISIs 10, 30 → mean 20, σ 10, CV 0.5. Neuron 1: two spikes only. Neuron 2: silent.
        var s = SpikeStatistics.Compute("p", 3, [0.0, 5.0, 10.0, 25.0, 40.0], [0, 1, 0, 1, 0], 100, 50);
        Assert.Equal(1, s.IsiCvNeurons);
        Assert.Equal(0.5, s.IsiCv, 12);
        Assert.Equal(5, s.SpikeCount);
        Assert.Equal([30.0, 20.0, 0.0], s.RatesHz.Select(r => Math.Round(r, 9)));
    }

    [Fact]
    public void Stream_file_and_memory_give_the_same_statistics()
    {
        using var dir = new TempDir();
        var net = SmallCuba(300);
        using var engine = Engine(net);
        string path = dir.File("s.spikes");
        using var memory = new SpikeMonitor(net);
        var streamed = new SpikeMonitor(net, options: new SpikeMonitorOptions { StreamPath = path, ChunkEntries = 100 });
        engine.AddSpikeSink(memory);
        engine.AddSpikeSink(streamed);
        engine.Run(net.DurationTicks);
        streamed.Dispose();

        var fromMemory = SpikeStatistics.FromMonitor(memory, 0);
        var fromFile = SpikeStatistics.FromStream(path, engine.FirstInstance, 300);
        var fromArrays = SpikeStatistics.Compute(memory.GetSpikes(0, "exc"), 300);
        Assert.Equal(2, fromFile.Count);
        for (int p = 0; p < 2; p++)
        {
            Assert.Equal(fromMemory[p].RatesHz, fromFile[p].RatesHz);
            Assert.Equal(fromMemory[p].IsiCv, fromFile[p].IsiCv);
            Assert.Equal(fromMemory[p].FanoFactor, fromFile[p].FanoFactor);
        }
        Assert.Equal(fromArrays.MeanRateHz, fromMemory[0].MeanRateHz);
        Assert.InRange(fromMemory[0].MeanRateHz, 1, 100);
        Assert.Equal(memory.SpikeCount(0, "exc"), fromMemory[0].SpikeCount);
    }
}
