using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;
using Sim.EventCore.Plasticity;
using Sim.EventCore.Precise;
using Sim.Experiments;
using Xunit;

namespace Sim.Specs.EventCore;

/// <summary>The step loop allocates nothing (single-threaded path).</summary>
public class AllocationTests
{
    [Fact]
    public void RunningAllocatesNothing()
    {
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1, Seed = 3 } };
        var g = b.NeuronGroup("n", 400, new LifExpParameters { VInitMv = Value.Uniform(-60, -50) });
        var d = b.NeuronGroup("d", 50, new LifDeltaParameters(), new EscapeNoise(2.0));
        var p = b.PoissonGroup("drive", 400, 800);
        b.Synapses(p, g, new Connectivity.OneToOne(), 4.0);
        b.Synapses(g, g, new Connectivity.FixedInDegree(20), 0.5, Value.Uniform(0.1, 2.0));
        b.Synapses(g, d, new Connectivity.FixedInDegree(20), 1.0);
        b.Current(d, 5.0, [0, 50], [1.0, 2.0]);
        // GoalLif with trace coupling (W_rec·hz every tick: the float64 weight image and the row runs).
        var gl = b.NeuronGroup("gl", 30, new GoalLifParameters());
        b.Synapses(p, gl, new Connectivity.FixedInDegree(5), 2.0);
        b.Synapses(gl, gl, new Connectivity.AllToAll(Autapses: false), Value.Uniform(-0.5, 0.5), weightFractionBits: 20);
        b.Synapses(gl, gl, new Connectivity.FixedProbability(0.3, Autapses: false), Value.Uniform(-0.5, 0.5), weightFractionBits: 20);
        // e-prop's neurons (adaptive and not, one with escape noise) and a recurrent rate population (FixedTanh, trace coupling).
        var al = b.NeuronGroup("alif", 40, new AlifParameters { RefractoryMs = 0.3, BetaMv = 0.05, TauAdaptMs = 50 });
        var le = b.NeuronGroup("lif_eprop", 40, new LifEpropParameters { RefractoryMs = 0.2 }, new EscapeNoise(0.05));
        b.Synapses(p, al, new Connectivity.FixedInDegree(10), 0.2);
        b.Synapses(al, le, new Connectivity.FixedInDegree(10), 0.3);
        var rt = b.NeuronGroup("rates", 30, new RateTanhParameters { HInit = Value.Uniform(-0.5, 0.5) });
        b.Synapses(p, rt, new Connectivity.FixedInDegree(5), 0.3);
        b.Synapses(rt, rt, new Connectivity.AllToAll(Autapses: false), Value.Normal(0, 0.3));
        using var engine = new EventEngine(NetworkCompiler.Compile(b.Build()), new EngineOptions { Threads = 1 });
        engine.Run(2000);   // warm-up: JIT, and the spike-history log reaches its peak size
        long before = GC.GetAllocatedBytesForCurrentThread();
        engine.Run(1000);
        engine.Run(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void PreciseEngineAllocatesNothingOnceItsQueuesHaveGrown()
    {
        // LifExp (root searches, lower bounds) and LifDelta (jumps) neurons, Poisson and recurrent arrivals with exact
        // heterogeneous delays (arrival runs, batches merged by a sort).
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1, Seed = 4 } };
        var g = b.NeuronGroup("n", 300, new LifExpParameters { ELeakMv = -49, VThresholdMv = -50, VInitMv = Value.Uniform(-60, -50) });
        var d = b.NeuronGroup("d", 100, new LifDeltaParameters { VInitMv = Value.Uniform(-60, -50) });
        var p = b.PoissonGroup("drive", 100, 300);
        b.Synapses(p, d, new Connectivity.FixedInDegree(10), 1.5, Value.Uniform(0.1, 1.0));
        b.Synapses(g, g, new Connectivity.FixedProbability(0.05), Value.Uniform(-3, 1), Value.Uniform(0.1, 2.0));
        b.Synapses(d, g, new Connectivity.FixedInDegree(10), 1.0, 0.5);
        var engine = new PreciseEngine(NetworkCompiler.Compile(b.Build(), exactDelays: true));
        engine.RunMs(1000);   // warm-up: JIT, and the event queue and arrival batch reach their working sizes
        long spikes = engine.SpikeCount;
        long before = GC.GetAllocatedBytesForCurrentThread();
        engine.RunMs(100);
        engine.RunMs(100);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(engine.SpikeCount - spikes > 200, $"{engine.SpikeCount - spikes} spikes");
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// With plasticity and a tick I/O hook the step loop still allocates nothing: a spike-timing rule (pre and post hooks,
    /// lazily decayed traces, per-synapse writes to a plastic spike projection) and an I/O hook that writes a current and
    /// reads the state every tick; and the rank-R rule learning store-and-recall (a row of W_rec written per neuron and tick).
    /// </summary>
    [Fact]
    public void PlasticityAndTickIOAllocateNothingPerTick()
    {
        var b = new NetworkBuilder { Run = new RunOptions { DtMs = 0.1, Seed = 5 } };
        var g = b.NeuronGroup("n", 200, new LifExpParameters { VInitMv = Value.Uniform(-60, -50) });
        var p = b.PoissonGroup("drive", 200, 500);
        b.Synapses(p, g, new Connectivity.FixedInDegree(10), Value.Uniform(0.5, 3.0), projectionName: "w_in");
        using (var engine = new EventEngine(NetworkCompiler.Compile(b.Build()), new EngineOptions { Threads = 1 }))
        {
            engine.AddPlasticityRule(new TimingRule("w_in"));
            engine.AddTickIO(new CurrentAndRead());
            engine.Run(3000);
            long before = GC.GetAllocatedBytesForCurrentThread();
            engine.Run(1000);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.NotEqual(PlasticityBinding.CompiledWeights(engine.Network, "w_in"), engine.GetWeights(0, "w_in"));   // the rule did write
        }
        var (learner, _) = new StoreRecall(new StoreRecallOptions { Neurons = 60, Steps = 80, Rank = 60, ReadoutIterations = 50 }).CreateLearner();
        using (learner)
        {
            for (int e = 0; e < 3; e++) { learner.ResetState(); learner.Run(80); learner.EndTrial(); }
            learner.ResetState();
            long before = GC.GetAllocatedBytesForCurrentThread();
            learner.Run(80);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    /// <summary>Potentiates the synapses of a spiking neuron by its sources' traces, depresses on presynaptic spikes.</summary>
    private sealed class TimingRule(string projection) : IPlasticityRule, IRuleInstance
    {
        private PlasticProjection _p = null!;
        private TraceHandle _pre = null!, _post = null!;
        public void Bind(PlasticityBinding binding)
        {
            _p = binding.Projection(projection);
            _pre = binding.PreTrace(10.0);
            _post = binding.PostTrace(20.0);
            binding.RequestSpikeHooks();
        }
        public IRuleInstance CreateInstance(IPlasticityContext context) => this;
        public void OnPostSpikes(IPlasticityContext c, ReadOnlySpan<int> neurons)
        {
            foreach (int i in neurons)
                foreach (int k in _p.Incoming(i)) c.SetWeight(_p, k, Math.Min(3.0, c.GetWeight(_p, k) + 0.01 * c.Trace(_pre, _p.Pre[k])));
        }
        public void OnPreSpikes(IPlasticityContext c, ReadOnlySpan<int> sources, ReadOnlySpan<int> counts)
        {
            foreach (int s in sources)
                foreach (int k in _p.Outgoing(s)) c.SetWeight(_p, k, Math.Max(0.0, c.GetWeight(_p, k) - 0.005 * c.Trace(_post, _p.Post[k])));
        }
    }

    /// <summary>Writes a current and reads v of every neuron each tick.</summary>
    private sealed class CurrentAndRead : ITickIO
    {
        private StateHandle? _v;
        public double Sum;
        public IReadOnlyList<string> InputPopulations { get; } = ["n"];
        public void BeforeTick(int instance, long tick, ITickInputs inputs) => inputs.Current(0).Fill(0.5 + (tick % 7) * 0.1);
        public void AfterTick(int instance, long tick, ReadOnlySpan<int> spikes, IStateReader state)
        {
            var v = _v ??= state.Resolve(0, "v_mv");
            for (int i = 0; i < 200; i++) Sum += state.Read(v, i);
        }
    }
}
