namespace Sim.EventCore.Models;

/// <summary>
/// What a model's dense step (<see cref="NeuronModelDefinition.DenseStep{T}"/>) is written against: the tensors of one
/// population for one tick, [B, n] (batch × neurons) or [n] for per-neuron constants, and the element-wise operations
/// allowed by the numerics contract. The dense engine (GpuBridge) implements it with TorchSharp tensors, so the model's
/// dense kernel lives in the model's folder although EventCore knows nothing of torch.
/// </summary>
/// <remarks>
/// Every operation is one IEEE operation per element, never fused (<c>mul</c> then <c>add</c>, not <c>addcmul</c>), so
/// that a kernel written as the same sequence as the event kernel gives the same bits. No transcendental is available:
/// propagators are per-neuron constants computed once in C#. Results of the operations are temporaries of the tick;
/// only <see cref="Set"/> writes persistent state.
/// </remarks>
/// <typeparam name="T">The engine's tensor type.</typeparam>
public interface IDenseKernel<T> where T : class
{
    /// <summary>The population's compiled constants (for scalars such as a grid; per-neuron arrays come as <see cref="Constant"/> tensors).</summary>
    ModelConstants Constants { get; }

    /// <summary>Stored state variable <paramref name="variable"/> (index in <see cref="NeuronModelDefinition.StateVariables"/>), [B, n].</summary>
    T State(int variable);

    /// <summary>Per-neuron constant <paramref name="index"/> (index in <see cref="ModelConstants.DenseArrays"/>), [n].</summary>
    T Constant(int index);

    /// <summary>This tick's delivered excitatory sum Σq (q ≥ 0, integer-valued), [B, n]: multiply by <see cref="WeightScale"/>.</summary>
    T ExcInput { get; }

    /// <summary>This tick's delivered inhibitory sum Σq (q &lt; 0, integer-valued), [B, n].</summary>
    T InhInput { get; }

    /// <summary>2^-F, the weight grid of the population's spike inputs.</summary>
    double WeightScale { get; }

    /// <summary>True when the population has a drive term this tick (constant I_ext, currents or a per-tick input).</summary>
    bool HasDrive { get; }

    /// <summary>The drive, [n] or [B, n] (valid when <see cref="HasDrive"/>).</summary>
    T Drive { get; }

    /// <summary>The trace-coupled input W·trace (exact), [B, n], or null when the population has none.</summary>
    T? TraceInput { get; }

    /// <summary>a + b.</summary>
    T Add(T a, T b);
    /// <summary>a − b.</summary>
    T Sub(T a, T b);
    /// <summary>a · b.</summary>
    T Mul(T a, T b);
    /// <summary>a · s.</summary>
    T Mul(T a, double s);
    /// <summary>a + s (one IEEE add; a − s is a + (−s), the same bits).</summary>
    T Add(T a, double s);
    /// <summary>
    /// a / b (one correctly rounded IEEE division, as C#'s <c>/</c> and torch's <c>div</c> on CPU and CUDA). The divisor
    /// is a tensor on purpose: a scalar divisor may become a multiplication by its reciprocal on CUDA.
    /// </summary>
    T Div(T a, T b);
    /// <summary>|a| (exact: the sign bit cleared).</summary>
    T Abs(T a);
    /// <summary>Where the bool mask is set a, elsewhere b (a selection: no arithmetic, so exact).</summary>
    T Where(T mask, T a, T b);
    /// <summary>a clamped into [min, max] (selections only: x &lt; min → min, x &gt; max → max, NaN stays NaN; C#'s <c>Math.Clamp</c>).</summary>
    T ClampRange(T a, double min, double max);
    /// <summary>round_half_even(a·scale)·unit (onto the grid unit = 1/scale, both powers of two).</summary>
    T RoundToGrid(T a, double scale, double unit);
    /// <summary>Writes <paramref name="value"/> into the persistent state variable <paramref name="variable"/>.</summary>
    void Set(int variable, T value);
    /// <summary>1.0 where the mask is set, else 0.0.</summary>
    T MaskToDouble(T mask);

    /// <summary>
    /// The threshold decision on x against θ: x &gt; θ (strict), or with escape noise (x − θ)/δv &gt; Logit[k] of the
    /// counter-RNG word of (seed, instance, tick, neuron) (numerics contract item 6). A bool mask [B, n].
    /// </summary>
    T Fires(T x, T theta);

    /// <summary>
    /// The bool mask [B, n] of the neurons past their refractory period at this tick, t − t_last ≥ n_ref (models with
    /// <see cref="ModelConstants.RefractoryTicks"/>), for models that treat refractoriness themselves (e.g. <c>alif</c>:
    /// the membrane keeps integrating, only spiking is blocked).
    /// </summary>
    T Active();

    /// <summary>
    /// <see cref="Fires"/>(x, θ) where <paramref name="active"/> is set, false elsewhere; every spike sets t_last ← t.
    /// Returns the spike mask. Nothing is reset: the model does that itself (e.g. by subtraction in the next tick).
    /// </summary>
    T FiresWhere(T x, T theta, T active);

    /// <summary>The all-false spike mask [B, n] of a model that never spikes (<see cref="NeuronModelDefinition.EmitsSpikes"/> false).</summary>
    T NoSpikes();

    /// <summary>
    /// Refractoriness, threshold and reset on the candidate <paramref name="candidate"/> of variable
    /// <paramref name="variable"/>: where t − t_last &lt; n_ref the variable is held; elsewhere it takes the candidate,
    /// and fires where <see cref="Fires"/>, which sets it to <paramref name="reset"/> and t_last ← t. Returns the spike mask.
    /// </summary>
    T ThresholdWithRefractoriness(T candidate, int variable, T theta, T reset);

    /// <summary>
    /// The greedy in-tick resolution of the model's fast coupling (<see cref="NeuronModelDefinition.FastCouplingOf"/>,
    /// <see cref="FastCoupling"/>), on the current state: clears the spike variable, then, per batch element, fires the
    /// not-yet-fired neuron with the largest overshoot v − θ &gt; 0 (lowest index on ties), adds its column of fast
    /// weights to every v and its jump to the jump variable, and repeats until none is above threshold. The same
    /// sequence of IEEE operations as <see cref="FastCoupling.Resolve"/>. Returns the spike mask [B, n].
    /// </summary>
    T ResolveFastCoupling();
}

/// <summary>The inputs of one neuron's reference step (<see cref="NeuronModelDefinition.ReferenceStep"/>) in one tick.</summary>
/// <param name="Tick">The tick.</param>
/// <param name="Exc">Delivered excitatory sum Σq (q ≥ 0).</param>
/// <param name="Inh">Delivered inhibitory sum Σq (q &lt; 0).</param>
/// <param name="WeightScale">2^-F.</param>
/// <param name="HasDrive">Whether the drive term is present.</param>
/// <param name="Drive">The drive of the neuron.</param>
/// <param name="TraceInput">The trace-coupled input (0 without).</param>
/// <param name="Fires">The threshold decision on v − θ (deterministic or escape noise), supplied by the reference loop.</param>
/// <param name="HasTraceInput">True when the population receives trace-coupled input this run (see
/// <see cref="IDenseKernel{T}.TraceInput"/>: non-null exactly then).</param>
public readonly record struct ReferenceInput(long Tick, double Exc, double Inh, double WeightScale, bool HasDrive, double Drive, double TraceInput,
    Func<double, bool> Fires, bool HasTraceInput = false);
