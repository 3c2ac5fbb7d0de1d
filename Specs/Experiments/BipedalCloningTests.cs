using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Models;
using Sim.Experiments;
using Sim.GpuBridge;
using Sim.Specs.Cli;
using Xunit;

namespace Sim.Specs.Experiments;

/// <summary>The walker's behavioural cloning (docs/tasks/bipedal.md) and the forward-Euler GoalLif variant it runs on.</summary>
public class BipedalCloningTests
{
    private static BipedalCloningOptions Small(ulong seed, Random? r = null) => new()
    {
        Neurons = r?.Next(8, 25) ?? 16, Rank = 4, TauStarMs = 3, Seed = seed, TrainSteps = r?.Next(30, 61) ?? 40, Iterations = 2, ReadoutSteps = 20,
        TestEpisodes = 2, TestSteps = r?.Next(40, 81) ?? 60, InputSd = 4, TeacherSd = 4,
    };

    private static long[] Bits(BipedalCloningResult r) =>
    [
        .. r.Iterations.SelectMany(i => i.Returns.Append(i.MeanSteps).Append(i.TrainDeltaS).Append(i.FreeDeltaS).Append(i.ReadoutMse).Append(i.ValidationMse)).Select(BitConverter.DoubleToInt64Bits),
        .. r.LastTest.HullX.Concat(r.LastTest.HullY).SelectMany(x => x).Select(BitConverter.DoubleToInt64Bits),
        .. r.RecurrentWeights.Concat(r.Readout).Select(BitConverter.DoubleToInt64Bits),
        BitConverter.DoubleToInt64Bits(r.Eta),
    ];

    /// <summary>Property (3 random small cells): target spikes, learning, replays, readouts and closed-loop episodes give the same bits on the event engine (2 threads) and the dense engine.</summary>
    [Box2DFact]
    public void ClosedLoopEpisodesAreBitIdenticalOnBothGridEngines()
    {
        var r = new Random(13);
        for (int c = 0; c < 3; c++)
        {
            var o = Small((ulong)r.Next(1, 1000), r);
            o = o with { Rank = r.Next(4, o.Neurons + 1), TauStarMs = new[] { 0.1, 3, 10 }[c] };
            var ev = new BipedalCloning(o, net => new EventEngine(net, new EngineOptions { Threads = 2 })).Run();
            var dn = new BipedalCloning(o, net => new DenseEngine(net)).Run();
            Assert.Equal(Bits(ev), Bits(dn));
            Assert.All(ev.LastTest.Steps, s => Assert.True(s > 0));
            Assert.NotEqual(0, ev.RecurrentWeights.Sum(Math.Abs));   // the recurrent weights learnt
        }
    }

    [Box2DFact]
    public void ACellIsDeterministicForItsSeed()
    {
        var a = new BipedalCloning(Small(5)).Run();
        var b = new BipedalCloning(Small(5)).Run();
        Assert.Equal(Bits(a), Bits(b));
        Assert.Equal(3, a.Iterations.Count);
        Assert.True(double.IsNaN(a.Iterations[0].TrainDeltaS));
        var other = new BipedalCloning(Small(6)).Run();
        Assert.NotEqual(Bits(a), Bits(other));
        // The recorded rate is the authors' 3.75e-3·√(N/R)·0.4/std(W_out).
        Assert.Equal(3.75e-3 * 0.4 / a.ReadoutSd * Math.Sqrt(16.0 / 4), a.Eta, 12);
        Assert.Contains("sqrt(N/R)", a.LearningRate);
    }

    [Theory]
    [InlineData("rank", 3)]
    [InlineData("rank", 17)]
    [InlineData("tau-star", 0)]
    [InlineData("neurons", 3)]
    [InlineData("test-episodes", 0)]
    [InlineData("tau-mem", 1)]
    public void BadOptionsNameTheOption(string option, double value)
    {
        var o = new BipedalCloningOptions { Neurons = 16 };
        o = option switch
        {
            "rank" => o with { Rank = (int)value },
            "tau-star" => o with { TauStarMs = value },
            "neurons" => o with { Neurons = (int)value },
            "test-episodes" => o with { TestEpisodes = (int)value },
            _ => o with { TauMemMs = value },
        };
        var e = Assert.Throws<ArgumentException>(() => new BipedalCloning(o));
        Assert.StartsWith(option + ":", e.Message);
    }

    [Fact]
    public void TheCommandRefusesABadRankNamingIt()
    {
        var (code, _, err) = CliHarness.Sim("task", "bipedal", "--rank", "2");
        Assert.Equal(2, code);
        Assert.Contains("--rank", err);
    }

    [Box2DFact]
    public void TheCommandWritesItsOutputs()
    {
        string dir = Path.Combine(Path.GetTempPath(), "sim-bipedal-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = CliHarness.Sim("task", "bipedal", "--neurons", "12", "--iterations", "1", "--test-episodes", "1", "--time-limit", "30", "--out", dir);
            Assert.True(code == 0, err);
            Assert.Contains("iteration   1", stdout);
            foreach (var f in new[] { "iterations.csv", "summary.txt", "learning-curve.png", "trajectories.png" }) Assert.True(File.Exists(Path.Combine(dir, f)), f);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Length);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    /// <summary>
    /// goal_lif_euler against a literal transcription of docs/models/goal_lif.md with α_m = 1 − dt/τ_m: three neurons
    /// coupled through hz, driven by random currents; v and z agree bit for bit on both grid engines, and differ from goal_lif.
    /// </summary>
    [Fact]
    public void TheEulerVariantMatchesANaiveTranscription()
    {
        const int n = 3, ticks = 200, gBits = 20, fBits = 16;
        const double tau = 4, tauS = 2, bias = -4, reset = -20;
        var rng = new Random(4);
        var w = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) if (i != j) w[i * n + j] = Math.Round((rng.NextDouble() * 8 - 4) * 65536) / 65536;
        var drive = Enumerable.Range(0, ticks).Select(_ => Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 12).ToArray()).ToArray();

        NetworkSpec Net(NeuronParameters p)
        {
            var b = new NetworkBuilder("euler") { Run = new RunOptions { DtMs = 1.0, DurationMs = ticks } };
            b.NeuronGroup("p", n, p);
            var pre = new List<int>(); var post = new List<int>(); var ws = new List<double>();
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) if (i != j) { pre.Add(j); post.Add(i); ws.Add(w[i * n + j]); }
            b.Synapses("p", "p", new Connectivity.PairList([.. pre], [.. post]), Value.PerElement([.. ws]), projectionName: "w", weightFractionBits: fBits);
            return b.Build();
        }
        (double[][] V, double[][] Z) Run(NetworkSpec spec, Func<CompiledNetwork, ISimulationEngine> make)
        {
            var net = NetworkCompiler.Compile(spec);
            using var engine = make(net);
            var rec = new Recorder(drive, n);
            engine.AddTickIO(rec);
            engine.Run(ticks);
            return (rec.V, rec.Z);
        }

        // The transcription.
        double am = 1 - 1.0 / tau, bm = 1.0 / tau, a_s = Math.Exp(-1 / tauS), b_s = 1 - a_s, g = Math.ScaleB(1.0, gBits);
        double Q(double x) => Math.Round(x * g, MidpointRounding.ToEven) / g;
        var v = Enumerable.Repeat(-4.0, n).ToArray();
        var z = new double[n]; var hz = new double[n]; var ej = new double[n];
        var V = new double[ticks][]; var Z = new double[ticks][];
        for (int t = 0; t < ticks; t++)
        {
            for (int i = 0; i < n; i++) { hz[i] = Q(hz[i] * a_s + z[i] * b_s); ej[i] = Q(ej[i] * am + hz[i] * bm); }
            var vn = new double[n];
            for (int i = 0; i < n; i++)
            {
                double rec = 0;
                for (int j = 0; j < n; j++) rec += w[i * n + j] * hz[j];
                double c = ((0.0 + rec) + bias) + drive[t][i];
                vn[i] = reset * z[i] + (c * bm + v[i] * am);
            }
            for (int i = 0; i < n; i++) { v[i] = vn[i]; z[i] = v[i] > 0 ? 1 : 0; }
            V[t] = (double[])v.Clone(); Z[t] = (double[])z.Clone();
        }

        var euler = new GoalLifEulerParameters { TauMemMs = tau, TauSynMs = tauS, TraceFractionBits = gBits };
        Assert.Equal(euler.Model, GoalLifEulerModel.Instance);
        Assert.True(ModelRegistry.TryGet("goal_lif_euler", out var m) && m == GoalLifEulerModel.Instance);
        var ev = Run(Net(euler), net => new EventEngine(net));
        var dn = Run(Net(euler), net => new DenseEngine(net));
        Assert.True(Z.Sum(r => r.Sum()) > 10, "the neurons fire");
        for (int t = 0; t < ticks; t++)
        {
            Assert.Equal(Z[t], ev.Z[t]);
            Assert.Equal(Z[t], dn.Z[t]);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(V[t][i]), BitConverter.DoubleToInt64Bits(ev.V[t][i]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(V[t][i]), BitConverter.DoubleToInt64Bits(dn.V[t][i]));
            }
        }
        var exp = Run(Net(new GoalLifParameters { TauMemMs = tau, TauSynMs = tauS, TraceFractionBits = gBits }), net => new EventEngine(net));
        Assert.NotEqual(V[5][0], exp.V[5][0]);

        // τ_m ≤ dt is refused, naming the parameter.
        var e = Assert.ThrowsAny<Exception>(() => NetworkCompiler.Compile(Net(euler with { TauMemMs = 1.0 })));
        Assert.Contains("tau_mem_ms", e.Message);
    }

    private sealed class Recorder(double[][] drive, int n) : ITickIO
    {
        public readonly double[][] V = new double[drive.Length][], Z = new double[drive.Length][];
        public IReadOnlyList<string> InputPopulations => ["p"];
        public void BeforeTick(int instance, long tick, ITickInputs inputs) => drive[tick].CopyTo(inputs.Current(0));
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state)
        {
            V[tick] = [.. Enumerable.Range(0, n).Select(i => state.Read(0, "v", i))];
            Z[tick] = [.. Enumerable.Range(0, n).Select(i => state.Read(0, "z", i))];
        }
    }
}
