using System.Numerics;
using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The state of one population in one instance, struct-of-arrays, and its grid kernels. The order of floating-point
/// operations in every kernel is the model contract (MODELS.md §1) that the dense engine reproduces: only IEEE
/// add/multiply (never fused), in exactly the sequence written in the comments.
/// </summary>
internal abstract class PopulationState(CompiledPopulation population)
{
    public readonly CompiledPopulation Population = population;
    public readonly int Offset = population.Offset, Size = population.Size;
    /// <summary>Tick of the last spike per neuron (refractoriness); a long way in the past initially.</summary>
    public readonly long[] LastSpike = Fill(population.Size, NeverSpiked);
    /// <summary>Drive per neuron at the current tick (constant I_ext plus currents), valid when HasDrive.</summary>
    public readonly double[] Drive = (double[])population.ConstantDrive.Clone();
    /// <summary>Per-current scale last applied (to recompute the drive only at change points).</summary>
    private readonly double[] _lastScale = Fill(population.Currents.Length, double.NaN);
    /// <summary>Scratch for the integrated candidate state.</summary>
    protected readonly double[] Scratch = new double[population.Size];

    public const long NeverSpiked = Engine.InstanceCheckpoint.NeverSpiked;

    private static T[] Fill<T>(int n, T v) { var a = new T[n]; Array.Fill(a, v); return a; }

    /// <summary>Sets the initial state of one instance (drawn from the counter RNG with the instance in the key).</summary>
    public abstract void Initialise(ulong seed, int instance);

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

    /// <summary>First part of integration that other populations depend on (GoalLif traces); default none.</summary>
    public virtual void UpdateTraces() { }

    /// <summary>Advances every neuron one tick (vectorised), writing candidates to scratch where thresholding needs the old value.</summary>
    public abstract void Integrate(in TickContext ctx);

    /// <summary>Refractoriness, threshold and reset (scalar, ascending id); appends global ids of spiking neurons.</summary>
    public abstract void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount);

    /// <summary>Named state variable (absolute units) of neuron i.</summary>
    public abstract double Read(int variable, int i);

    /// <summary>Index of a state variable name.</summary>
    public int VariableIndex(string name)
    {
        var vars = Description.Naming.StateVariables(Population.Model);
        for (int k = 0; k < vars.Count; k++) if (vars[k] == name) return k;
        throw new ArgumentException($"'{name}' is not a state variable of population '{Population.Name}' ({string.Join(", ", vars)})");
    }

    /// <summary>All state arrays in a fixed order (checkpoints, comparisons).</summary>
    public abstract IEnumerable<(string Name, Memory<double> Values)> StateArrays();

    /// <summary>Makes the next <see cref="UpdateDrive"/> recompute the drive (after a restore).</summary>
    public void ForceDriveUpdate() => Array.Fill(_lastScale, double.NaN);

    /// <summary>Recomputes the drive when a current's scale changes: drive_i = I_ext,i, then + amp_c,i·s_c in spec order.</summary>
    public void UpdateDrive(long tick)
    {
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

    /// <summary>Creates the state of a population.</summary>
    public static PopulationState Create(CompiledPopulation p, double[] globalHz, double[] globalRecInput) => p.Model switch
    {
        Description.NeuronModel.LifExp => new LifExpState(p),
        Description.NeuronModel.LifDelta => new LifDeltaState(p),
        Description.NeuronModel.GoalLif => new GoalLifState(p, globalHz, globalRecInput),
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    /// <summary>Draws initial values of a Value for one instance.</summary>
    protected void DrawInitial(Description.Value v, string name, ulong seed, int instance, Span<double> dest, ReadOnlySpan<double> offset = default)
    {
        ulong key = CounterRng.Key(seed, RngStreams.PopulationValues(Population.Index, "init:" + name), (ulong)instance, 0);
        for (int i = 0; i < dest.Length; i++) dest[i] = v.Draw(key, i) - (offset.IsEmpty ? 0.0 : offset[i]);
    }
}

/// <summary>Per-tick values every kernel needs.</summary>
internal readonly struct TickContext(long tick, ulong noiseKey)
{
    public readonly long Tick = tick;
    /// <summary>CounterRng key of (seed, escape-noise stream, instance, tick).</summary>
    public readonly ulong NoiseKey = noiseKey;
}
