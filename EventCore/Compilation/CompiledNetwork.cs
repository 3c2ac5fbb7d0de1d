using Sim.EventCore.Description;
using Sim.EventCore.Models;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Compilation;

/// <summary>
/// A network ready to run: neurons laid out in one global id space (populations in order), input sources after
/// them, synapses in CSR grouped by (delay, receptor), fixed-point weights, per-neuron propagators computed once.
/// Every engine (event, dense) runs from this object, which is what makes them agree bit for bit.
/// Immutable after compilation: its weights are the initial ones; plastic weights live per instance in the engines
/// (Plasticity.InstanceWeights), so one compiled network may serve many engines at once.
/// </summary>
public sealed class CompiledNetwork
{
    /// <summary>The validated description it was compiled from.</summary>
    public required NetworkSpec Spec { get; init; }
    /// <summary>Time step (ms).</summary>
    public double DtMs => Spec.Run.DtMs;
    /// <summary>Seed of every random stream.</summary>
    public ulong Seed => Spec.Run.Seed;
    /// <summary>Populations in global-id order.</summary>
    public required CompiledPopulation[] Populations { get; init; }
    /// <summary>Inputs; their sources follow the neurons in the source-id space.</summary>
    public required CompiledInput[] Inputs { get; init; }
    /// <summary>Total number of neurons.</summary>
    public required int NeuronCount { get; init; }
    /// <summary>Neurons plus input sources.</summary>
    public required int SourceCount { get; init; }
    /// <summary>Spike-coupled synapses.</summary>
    public required SynapseTable Synapses { get; init; }
    /// <summary>Trace-coupled synapses (from a population exporting a coupling trace to one taking trace input; rows by target).</summary>
    public required TraceCouplingTable TraceSynapses { get; init; }
    /// <summary>The compiler's estimate (bytes) of the memory compiling took at its peak (docs/reliability.md, "Memory"); 0 when not compiled by it.</summary>
    public double CompileMemoryEstimateBytes { get; init; }
    /// <summary>Largest delay in ticks (the ring needs one slot more).</summary>
    public int MaxDelayTicks => Synapses.MaxDelayTicks;
    /// <summary>Ticks of the run duration, round(duration/dt).</summary>
    public long DurationTicks => TimeGrid.Ticks(Spec.Run.DurationMs, DtMs);

    /// <summary>Index of the population holding global neuron id <paramref name="neuron"/>.</summary>
    public int PopulationOf(int neuron)
    {
        for (int p = 0; p < Populations.Length; p++)
            if (neuron < Populations[p].Offset + Populations[p].Size) return p;
        throw new ArgumentOutOfRangeException(nameof(neuron));
    }

    /// <summary>Population by name.</summary>
    public CompiledPopulation Population(string name)
        => Populations.FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException($"no population named '{name}'", nameof(name));

    /// <summary>The largest Σ_j |q_j| a trace row into <paramref name="population"/> may reach: 2^(53 − G_in).</summary>
    /// <remarks>Divided by the bound on the traces read (<see cref="CompiledPopulation.TraceInputBound"/>; 1 for GoalLif's hz).</remarks>
    public static double TraceRowLimit(CompiledPopulation population) => Math.ScaleB(FixedPoint.ExactLimit, -population.TraceInputFractionBits) / population.TraceInputBound;
}

/// <summary>Conversions between ms and ticks: one rounding rule, used everywhere.</summary>
public static class TimeGrid
{
    /// <summary>round(t/dt), halves away from zero.</summary>
    public static long Ticks(double timeMs, double dtMs) => (long)Math.Round(timeMs / dtMs, MidpointRounding.AwayFromZero);
    /// <summary>The tick a continuous-time event at <paramref name="timeMs"/> falls into: ⌊t/dt⌋.</summary>
    public static long FloorTicks(double timeMs, double dtMs) => (long)Math.Floor(timeMs / dtMs);

    /// <summary>
    /// The time (ms) of tick <paramref name="tick"/>, as close to the decimal tick·dt as a double gets: tick / (1/dt)
    /// when 1/dt is a whole number (dt = 0.1 ms: tick 9999 is 999.9, where 9999 · 0.1 gives 999.9000000000001), tick · dt
    /// otherwise (then exact for the binary dt such as 0.125 and 0.0625).
    /// </summary>
    public static double TimeMs(long tick, double dtMs) => new TickClock(dtMs).TimeMs(tick);
}

/// <summary>
/// <see cref="TimeGrid.TimeMs"/> with its test of dt made once, for loops over many ticks (a spike monitor's millions of
/// spikes): tick / (1/dt) when 1/dt is a whole number, tick · dt otherwise.
/// </summary>
public readonly struct TickClock
{
    private readonly double _dtMs, _ticksPerMs;

    /// <summary>The clock of time step <paramref name="dtMs"/>.</summary>
    public TickClock(double dtMs)
    {
        _dtMs = dtMs;
        double perMs = Math.Round(1.0 / dtMs);
        _ticksPerMs = perMs >= 1 && 1.0 / perMs == dtMs ? perMs : 0;
    }

    /// <summary>The time (ms) of <paramref name="tick"/>, the decimal tick·dt rounded once where 1/dt is whole.</summary>
    public double TimeMs(long tick) => _ticksPerMs > 0 ? tick / _ticksPerMs : tick * _dtMs;
}

/// <summary>A compiled population: layout, model and per-neuron constants.</summary>
public sealed class CompiledPopulation
{
    /// <summary>Index in <see cref="CompiledNetwork.Populations"/>.</summary>
    public required int Index { get; init; }
    /// <summary>Name.</summary>
    public required string Name { get; init; }
    /// <summary>The neuron model (its unit in EventCore/Models/).</summary>
    public required NeuronModelDefinition Model { get; init; }
    /// <summary>First global neuron id.</summary>
    public required int Offset { get; init; }
    /// <summary>Number of neurons.</summary>
    public required int Size { get; init; }
    /// <summary>Escape noise δv, or 0 for the deterministic threshold.</summary>
    public required double NoiseDeltaV { get; init; }
    /// <summary>Fraction bits F of the spike-input weight grid of this population.</summary>
    public required int WeightFractionBits { get; init; }
    /// <summary>Fraction bits of the trace-coupling weight grid (targets whose model takes trace input).</summary>
    public required int TraceWeightFractionBits { get; init; }
    /// <summary>
    /// Fraction bits G_in on which the presynaptic traces hz of incoming trace projections are read: the largest
    /// TraceFractionBits of their source populations (a coarser grid embeds exactly in a finer one).
    /// </summary>
    public required int TraceInputFractionBits { get; init; }
    /// <summary>
    /// True when the trace-coupled input is an exact integer sum (every trace-coupled source keeps its trace on a grid);
    /// false with an unquantized source (a float64 comparison mode): then the weights of the population's trace rows are
    /// float64 values (<see cref="TraceCouplingTable.QValue"/> holds w, not q) summed in source order.
    /// </summary>
    public bool ExactTraceInput { get; init; } = true;
    /// <summary>
    /// The largest value of the traces this population reads (<see cref="NeuronModelDefinition.CouplingTraceBound"/> of
    /// its trace sources, its own exported trace included): 1 for GoalLif's hz, (1 + 2^-(G+1))/(1 − α_d) for Ebn's r.
    /// </summary>
    public double TraceInputBound { get; init; } = 1.0;
    /// <summary>The model's compiled per-neuron constants (e.g. <see cref="LifExpConstants"/>).</summary>
    public required ModelConstants Constants { get; init; }
    /// <summary>The source description.</summary>
    public required PopulationSpec Spec { get; init; }
    /// <summary>Currents injected into this population, in spec order.</summary>
    public required CompiledCurrent[] Currents { get; init; }
    /// <summary>True when the drive term (constant I_ext plus currents) is ever nonzero; engines skip it otherwise.</summary>
    public required bool HasDrive { get; init; }
    /// <summary>Constant part of the drive, per neuron (the model's I_ext term; zeros for models without one).</summary>
    public required double[] ConstantDrive { get; init; }

    /// <summary>
    /// Writes the scale of every current at <paramref name="tick"/> into <paramref name="scales"/> (one per current)
    /// and returns whether any of them changed (bitwise; a NaN start value counts as changed). Shared by the engines,
    /// so that they recompute the drive on the same ticks.
    /// </summary>
    public bool RefreshCurrentScales(long tick, double[] scales)
    {
        bool changed = false;
        for (int c = 0; c < Currents.Length; c++)
        {
            double s = Currents[c].ScaleAt(tick);
            if (!s.Equals(scales[c])) { scales[c] = s; changed = true; }
        }
        return changed;
    }

    /// <summary>
    /// The drive of every neuron for the given current scales: drive_i = I_ext,i, then drive_i ← amp_c,i·s_c + drive_i
    /// for each current c in spec order (element-wise, multiply then add, never fused). The one definition both
    /// engines use.
    /// </summary>
    public void DriveInto(ReadOnlySpan<double> scales, Span<double> drive)
    {
        ConstantDrive.CopyTo(drive);
        for (int c = 0; c < Currents.Length; c++)
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(Currents[c].Amplitude, scales[c], drive, drive);
    }
}

/// <summary>A compiled input: its place in the source-id space and what makes it spike.</summary>
public sealed class CompiledInput
{
    /// <summary>Index in <see cref="CompiledNetwork.Inputs"/> (also its RNG stream).</summary>
    public required int Index { get; init; }
    /// <summary>Name.</summary>
    public required string Name { get; init; }
    /// <summary>First source id.</summary>
    public required int Offset { get; init; }
    /// <summary>Number of sources.</summary>
    public required int Size { get; init; }
    /// <summary>The source description.</summary>
    public required InputSpec Spec { get; init; }
    /// <summary>Poisson rate per source (kHz = spikes/ms), or null.</summary>
    public double[]? RatePerMs { get; init; }
    /// <summary>Spike-time inputs: ticks ascending, with source index (ties by ascending index).</summary>
    public long[]? SpikeTicks { get; init; }
    /// <summary>Spike-time inputs: local source index per spike.</summary>
    public int[]? SpikeIndices { get; init; }
    /// <summary>Spike-time inputs: exact times (ms), in the same order, for continuous-time engines.</summary>
    public double[]? SpikeTimesMs { get; init; }
    /// <summary>Clock: ticks per channel.</summary>
    public long ClockSpanTicks { get; init; }
    /// <summary>Clock: period in ticks, 0 for none.</summary>
    public long ClockPeriodTicks { get; init; }

    /// <summary>Clock: the channel that fires in <paramref name="tick"/> ((t mod period)/span), or −1 when none does.</summary>
    public int ClockChannelAt(long tick)
    {
        long phase = ClockPeriodTicks > 0 ? tick % ClockPeriodTicks : tick;
        long ch = phase / ClockSpanTicks;
        return ch < Size ? (int)ch : -1;
    }

    /// <summary>Poisson: true when a spike at <paramref name="timeMs"/> falls at or after the stop time (it is not emitted).</summary>
    public bool PoissonStopped(double timeMs) => Spec is PoissonInput { StopMs: { } stop } && timeMs >= stop;

    /// <summary>
    /// Poisson spike k (k = 0, 1, …) of source <paramref name="source"/> in <paramref name="instance"/>, given the previous
    /// time: t_k = t_{k−1} + Exp(rate), t_{−1} = start. One definition for all engines.
    /// </summary>
    public double NextPoissonTimeMs(ulong seed, int instance, int source, long k, double previousMs)
        => NextPoissonTimeFromKeyMs(PoissonKey(seed, instance, source), source, k, previousMs);

    /// <summary>The random-stream key of Poisson source <paramref name="source"/> (local index) of an instance.</summary>
    public ulong PoissonKey(ulong seed, int instance, int source) => CounterRng.Key(seed, RngStreams.Poisson(Index), (ulong)instance, (ulong)source);

    /// <summary>As <see cref="NextPoissonTimeMs(ulong, int, int, long, double)"/> with the source's key already computed (<see cref="PoissonKey"/>).</summary>
    public double NextPoissonTimeFromKeyMs(ulong sourceKey, int source, long k, double previousMs)
    {
        double u = CounterRng.UniformOpen0(CounterRng.Word(sourceKey, (ulong)k));
        return previousMs - Math.Log(u) / RatePerMs![source];
    }
}

/// <summary>A current into one population: I_i(t) = Amplitude_i · s(t) (see <see cref="CurrentSpec"/>).</summary>
public sealed class CompiledCurrent
{
    /// <summary>Per-neuron amplitude.</summary>
    public required double[] Amplitude { get; init; }
    /// <summary>Ticks at which s changes (ascending), empty for s ≡ 1.</summary>
    public required long[] ChangeTicks { get; init; }
    /// <summary>s after each change tick.</summary>
    public required double[] Scales { get; init; }

    /// <summary>s at tick t.</summary>
    public double ScaleAt(long tick)
    {
        if (ChangeTicks.Length == 0) return 1.0;
        int j = Array.BinarySearch(ChangeTicks, tick);
        if (j < 0) j = ~j - 1;
        else while (j + 1 < ChangeTicks.Length && ChangeTicks[j + 1] == tick) j++;
        return j < 0 ? 0.0 : Scales[j];
    }
}
