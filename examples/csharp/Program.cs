// Sim.Sample: a spiking network built in C# against the Sim.* NuGet packages (docs/packages.md).
// Usage: Sim.Sample [ENGINE] [OUT]   ENGINE: event (default) or dense; OUT: folder for run.h5 (default sample-out).
using Sim.EventCore.Description;
using Sim.Experiments;
using Sim.Probes;
using Sim.Probes.Writers;

string engineName = args.Length > 0 ? args[0] : "event";
string outDir = args.Length > 1 ? args[1] : "sample-out";

// 200 Poisson sources drive 400 excitatory and 100 inhibitory current-based LIF neurons, coupled recurrently.
var net = new NetworkBuilder("sample") { Run = new RunOptions { DtMs = 0.1, DurationMs = 500, Seed = 7 } };
var lif = new LifExpParameters
{
    TauMemMs = 20, TauExcMs = 5, TauInhMs = 10, ELeakMv = -60, VThresholdMv = -50, VResetMv = -60,
    RefractoryMs = 2, VInitMv = Value.Uniform(-60, -50),
};
string input = net.PoissonGroup("input", 200, rateHz: 20);
string exc = net.NeuronGroup("exc", 400, lif);
string inh = net.NeuronGroup("inh", 100, lif);
net.Synapses(input, exc, new Connectivity.FixedProbability(0.2), weight: 3.0);
net.Synapses(input, inh, new Connectivity.FixedProbability(0.2), weight: 3.0);
foreach (string target in new[] { exc, inh })
{
    net.Synapses(exc, target, new Connectivity.FixedProbability(0.05), weight: 0.5, delayMs: 1.0);
    net.Synapses(inh, target, new Connectivity.FixedProbability(0.05), weight: -2.0, delayMs: 1.0);
}
net.Monitor(new SpikeMonitorSpec([exc, inh]));
net.Monitor(new RateMonitorSpec(exc, 1.0));
NetworkSpec spec = net.Build();   // validated: a mistake throws a SpecException naming the field

// Compile and run on the chosen engine; the monitors the spec lists record the run.
var compiled = EngineFactory.Compile(engineName, spec);
using var engine = EngineFactory.CreateGrid(engineName, compiled);
using var monitors = MonitorSet.Attach(engine);
var result = engine.Run(compiled.DurationTicks);

double seconds = engine.TimeMs / 1000.0;
Console.WriteLine($"engine {engine.EngineName}");
Console.WriteLine($"ticks {result.TicksRun}");
foreach (var population in compiled.Populations)
{
    long spikes = monitors.Spikes!.SpikeCount(0, population.Name);
    Console.WriteLine($"population {population.Name} neurons {population.Size} spikes {spikes} rate {spikes / (population.Size * seconds):F3} Hz");
}

// run.h5: the same layout as `sim run` writes (docs/output-format.md), readable with h5py.
Directory.CreateDirectory(outDir);
string file = Hdf5Writer.Write(Path.Combine(outDir, "run.h5"), compiled, monitors, engine.TimeMs, NetworkFile.Write(spec), engine: engine.EngineName);
Console.WriteLine($"wrote {file}");
