using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The event-engine state of one population in one instance, struct-of-arrays (one array per stored variable of its
/// model, <see cref="NeuronModelDefinition.StateVariables"/>), and its grid kernels. The order of floating-point
/// operations in every kernel is the model's contract (its page in docs/models/) that the dense kernel and the
/// reference step reproduce: only IEEE add/multiply (never fused), in exactly the sequence written there.
/// </summary>
internal abstract class PopulationState
{
    public readonly CompiledPopulation Population;
    public readonly NeuronModelDefinition Model;
    public readonly int Offset, Size;
    /// <summary>The stored variables, in the model's order (checkpoints, plasticity, monitors).</summary>
    public readonly double[][] State;
    /// <summary>Tick of the last spike per neuron (refractoriness); a long way in the past initially.</summary>
    public readonly long[] LastSpike;
    /// <summary>Drive per neuron at the current tick (constant I_ext plus currents plus per-tick input), valid when <see cref="HasDrive"/>.</summary>
    public readonly double[] Drive;
    /// <summary>Per-current scale last applied (to recompute the drive only at change points).</summary>
    private readonly double[] _lastScale;
    /// <summary>Per-tick external input (the tick I/O hook), added to the drive; null unless a hook writes this population.</summary>
    private double[]? _external;
    /// <summary>Scratch for the integrated candidate state.</summary>
    protected readonly double[] Scratch;

    public const long NeverSpiked = Engine.InstanceCheckpoint.NeverSpiked;

    protected PopulationState(CompiledPopulation population)
    {
        Population = population;
        Model = population.Model;
        Offset = population.Offset;
        Size = population.Size;
        State = [.. Model.StateVariables.Select(_ => new double[Size])];
        LastSpike = new long[Size];
        Array.Fill(LastSpike, NeverSpiked);
        Drive = (double[])population.ConstantDrive.Clone();
        _lastScale = new double[population.Currents.Length];
        Array.Fill(_lastScale, double.NaN);
        Scratch = new double[Size];
        HasDrive = population.HasDrive;
    }

    /// <summary>True when the drive term is ever nonzero (compiled) or a per-tick input writes this population; kernels skip it otherwise.</summary>
    public bool HasDrive { get; private set; }

    /// <summary>
    /// Makes this population take a per-tick external input (sample-and-hold: a value stays until rewritten), added to
    /// the drive after the currents: drive_i ← x_i + drive_i. Returns the writable input array.
    /// </summary>
    public double[] EnableExternalInput()
    {
        HasDrive = true;
        return _external ??= new double[Size];
    }

    /// <summary>The per-tick external input, or null when none was enabled.</summary>
    public double[]? External => _external;

    private double[]? _clamp;

    /// <summary>Makes this population's spikes clampable (<c>ITickInputs.Clamp</c>); returns the clamp array (NaN = free).</summary>
    public double[] EnableClamp()
    {
        if (Model.ClampVariable < 0) throw new ArgumentException($"population '{Population.Name}' ({Model.Name}) cannot be clamped: the model names no spike variable a clamp could overwrite");
        if (_clamp is null) { _clamp = new double[Size]; Array.Fill(_clamp, double.NaN); }
        return _clamp;
    }

    /// <summary>The spike clamp (NaN = free), or null when none was enabled.</summary>
    public double[]? Clamp => _clamp;

    /// <summary>
    /// Applies the clamp after Threshold: the model's spike variable takes the clamped value where one is set, and the
    /// population's part of the spike list (from <paramref name="start"/>, ascending ids) is rewritten from it.
    /// </summary>
    public void ApplyClamp(int[] spikes, int start, ref int count)
    {
        var c = _clamp!;
        var z = State[Model.ClampVariable];
        int k = start;
        for (int i = 0; i < c.Length; i++)
        {
            double forced = c[i];
            if (!double.IsNaN(forced))
            {
                if (forced is not (0.0 or 1.0)) throw new InvalidOperationException($"spike clamp of '{Population.Name}'[{i}] is {forced:R}; it must be 0, 1 or NaN (free)");
                z[i] = forced;
            }
            if (z[i] != 0) spikes[k++] = Offset + i;
        }
        count = k;
    }

    /// <summary>Sets the initial state of one instance: the model's initial values, never spiked, the drive recomputed.</summary>
    public void Initialise(ulong seed, int instance)
    {
        Model.Initialise(Population, seed, instance, State);
        Array.Fill(LastSpike, NeverSpiked);
        if (_external is not null) Array.Clear(_external);
        if (_clamp is not null) Array.Fill(_clamp, double.NaN);
        ForceDriveUpdate();
    }

    /// <summary>
    /// Reads and applies this tick's delivered fixed-point sums (exc, inh: integer-valued), scaled by 2^-F, and clears
    /// them (the slot is reused D ticks later).
    /// </summary>
    /// <param name="accExc">The excitatory ring (all slots).</param>
    /// <param name="accInh">The inhibitory ring.</param>
    /// <param name="start">Index of this population's first neuron in the current slot.</param>
    public abstract void Deliver(double[] accExc, double[] accInh, int start);

    /// <summary>j ← (exc + inh)·scale (an exact integer sum, then one scaling), then both cleared.</summary>
    protected static void SumScaleAndClear(Span<double> accExc, Span<double> accInh, double scale, Span<double> j)
    {
        TensorPrimitives.Add(accExc, accInh, j);
        TensorPrimitives.Multiply(j, scale, j);
        accExc.Clear();
        accInh.Clear();
    }

    /// <summary>First part of integration that trace-coupled populations depend on (GoalLif traces); default none.</summary>
    public virtual void UpdateTraces() { }

    /// <summary>Advances every neuron one tick (vectorised), writing candidates to scratch where thresholding needs the old value.</summary>
    public abstract void Integrate(in TickContext ctx);

    /// <summary>Refractoriness, threshold and reset (scalar, ascending id); appends global ids of spiking neurons.</summary>
    public abstract void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount);

    /// <summary>Stored variable <paramref name="variable"/> of neuron i in absolute units (plus the model's report offset).</summary>
    public double Read(int variable, int i)
    {
        var offset = Model.ReportOffset(Population.Constants, variable);
        return offset.IsEmpty ? State[variable][i] : State[variable][i] + offset[i];
    }

    /// <summary>Index of a state variable by its reported name.</summary>
    public int VariableIndex(string name)
    {
        int k = Model.VariableIndex(name);
        if (k < 0) throw new ArgumentException($"'{name}' is not a state variable of population '{Population.Name}' ({string.Join(", ", Model.ReportedVariableNames)})");
        return k;
    }

    /// <summary>All stored arrays in the model's order, with their stored names (checkpoints, comparisons).</summary>
    public IEnumerable<(string Name, double[] Values)> StateArrays()
    {
        var vars = Model.StateVariables;
        for (int k = 0; k < vars.Count; k++) yield return (vars[k].Name, State[k]);
    }

    /// <summary>Makes the next <see cref="UpdateDrive"/> recompute the drive (after a restore).</summary>
    public void ForceDriveUpdate() => Array.Fill(_lastScale, double.NaN);

    /// <summary>
    /// Recomputes the drive when a current's scale changes (drive_i = I_ext,i, then + amp_c,i·s_c in spec order), and
    /// every tick when a per-tick input is enabled (then drive_i ← x_i + drive_i).
    /// </summary>
    public void UpdateDrive(long tick)
    {
        if (_external is not null)
        {
            Population.RefreshCurrentScales(tick, _lastScale);
            Population.DriveInto(_lastScale, Drive);
            TensorPrimitives.Add(_external, Drive, Drive);
            return;
        }
        if (Population.Currents.Length == 0) return;
        if (Population.RefreshCurrentScales(tick, _lastScale)) Population.DriveInto(_lastScale, Drive);
    }

    /// <summary>
    /// Threshold/reset with escape noise for the LIF models (scalar; the deterministic case is <see cref="ThresholdKernel"/>):
    /// a refractory neuron is held; otherwise u ← a and it fires with probability σ((u − θ)/δv), then u ← u_r.
    /// </summary>
    protected void EscapeThreshold(in TickContext ctx, double[] u, double[] a, double[] theta, double[] reset, long[] nref,
        int[] spikes, ref int spikeCount)
    {
        long t = ctx.Tick;
        long[] last = LastSpike;
        double dv = Population.NoiseDeltaV;
        for (int i = 0; i < u.Length; i++)
        {
            if (t - last[i] < nref[i]) continue;
            double ui = a[i];
            if (Escape(ui - theta[i], dv, ctx.NoiseKey, Offset + i)) { ui = reset[i]; last[i] = t; spikes[spikeCount++] = Offset + i; }
            u[i] = ui;
        }
    }

    /// <summary>Escape-noise decision: spike iff (v − θ)/δv &gt; logit(u_k) (see <see cref="EscapeNoiseTable"/>).</summary>
    protected static bool Escape(double vMinusTheta, double deltaV, ulong noiseKey, int globalId)
        => vMinusTheta / deltaV > EscapeNoiseTable.Logit[EscapeNoiseTable.Index(CounterRng.Word(noiseKey, (ulong)globalId))];
}

/// <summary>Per-tick values every kernel needs.</summary>
internal readonly struct TickContext(long tick, ulong noiseKey)
{
    public readonly long Tick = tick;
    /// <summary>CounterRng key of (seed, escape-noise stream, instance, tick).</summary>
    public readonly ulong NoiseKey = noiseKey;
}
