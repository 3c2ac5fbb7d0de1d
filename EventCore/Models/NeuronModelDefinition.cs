using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// One neuron model as a unit (docs/architecture.md, "A neuron model"): its parameters, their discretisation into typed
/// per-neuron constants, its named state variables, and its step written three times over the same contract: the
/// event-engine kernel (vectorised over struct-of-arrays state), the dense kernel (tensor operations through
/// <see cref="IDenseKernel{T}"/>, so that it lives here although the dense engine lives in GpuBridge), and the scalar
/// reference step the conformance specs compare both with. Optionally an exact propagator for the precise engine and a
/// pseudo-derivative for gradient-based rules. Every reader, validator, compiler, engine and spec generator consults
/// the <see cref="ModelRegistry"/> and this contract instead of switching on the model.
/// </summary>
/// <remarks>
/// The contract of each model (equations, step order, units, frames) is its page in <c>docs/models/</c>
/// (<see cref="DocPage"/>); the three implementations follow it operation by operation (numerics contract:
/// docs/numerics.md), so that the event and dense engines agree bit for bit and both equal the reference.
/// </remarks>
public abstract class NeuronModelDefinition
{
    /// <summary>The name in network files (<c>lif_exp</c>): lower case, words separated by '_'.</summary>
    public abstract string Name { get; }

    /// <summary>One line for listings and errors, e.g. "current-based LIF, exponential synapses (NEST iaf_psc_exp)".</summary>
    public abstract string Summary { get; }

    /// <summary>The page of the model's contract in the repository, e.g. <c>docs/models/lif_exp.md</c>.</summary>
    public string DocPage => $"docs/models/{Name}.md";

    /// <summary>The parameter record (a <see cref="NeuronParameters"/> with a parameterless constructor).</summary>
    public abstract Type ParametersType { get; }

    /// <summary>A parameter record with every default.</summary>
    public NeuronParameters DefaultParameters() => (NeuronParameters)Activator.CreateInstance(ParametersType)!;

    /// <summary>
    /// The stored state variables in a fixed order, in the model's frame (the names of checkpoints and of
    /// <see cref="Plasticity.IPlasticityContext.Variable(int, string)"/>). Index k is the k-th array of every state of this model.
    /// </summary>
    public abstract IReadOnlyList<StateVariable> StateVariables { get; }

    /// <summary>The names monitors and <c>GetVariable</c> use (absolute units), in <see cref="StateVariables"/> order.</summary>
    public IReadOnlyList<string> ReportedVariableNames => _reported ??= [.. StateVariables.Select(v => v.Reported)];
    private string[]? _reported;

    /// <summary>
    /// The offset added to stored variable <paramref name="variable"/> to report it (e.g. E_L for LifExp's u = v − E_L),
    /// or an empty span when it is reported as stored. The addition is one IEEE add in C# in every engine.
    /// </summary>
    public virtual ReadOnlySpan<double> ReportOffset(ModelConstants constants, int variable) => default;

    /// <summary>
    /// Index of the stored variable reported under <paramref name="name"/> (absolute units: every engine's readers,
    /// monitors and observers), or −1. A stored name that differs from its reported one (u_mv, reported as v_mv) is not
    /// accepted here, since what is read is the reported value.
    /// </summary>
    public int VariableIndex(string name)
    {
        var vars = StateVariables;
        for (int k = 0; k < vars.Count; k++) if (vars[k].Reported == name) return k;
        return -1;
    }

    /// <summary>
    /// Checks stored values read from outside (a checkpoint) for what the engines rely on; returns the problem, starting
    /// with the index, e.g. "[3] = 0.1 is not on the trace grid 2^-20 in [0, 1]", or null. Default: accepts everything.
    /// </summary>
    public virtual string? CheckStoredValues(ModelConstants constants, int variable, ReadOnlySpan<double> values) => null;

    /// <summary>
    /// True when the model treats excitatory (w ≥ 0) and inhibitory (w &lt; 0) weights differently (separate synaptic
    /// variables, e.g. LifExp's g_e, g_i); a plastic spike synapse into such a model keeps its sign. False when the model
    /// only ever uses their sum (LifDelta, GoalLif), where plastic weights may change sign freely.
    /// </summary>
    public virtual bool DistinguishesReceptors => true;

    /// <summary>
    /// The stored variable this model exports to trace-coupled projections (GoalLif: the synaptic trace hz), or −1.
    /// A projection from a population exporting a trace to one that <see cref="TakesTraceInput"/> acts through that
    /// trace without delay (an exact dense coupling, W·trace), not through delayed spikes.
    /// </summary>
    public virtual int CouplingTraceVariable => -1;

    /// <summary>
    /// The stored 0/1 spike variable that a spike clamp (teacher forcing, <c>ITickInputs.Clamp</c>) overwrites after the
    /// Threshold step, or −1 when the model cannot be clamped. A model may name one only when that variable is the whole
    /// effect of a spike on its next tick (GoalLif: z drives the reset and the synaptic trace); models whose spike also
    /// resets the membrane in the same tick or starts a refractory period cannot be clamped this way.
    /// </summary>
    public virtual int ClampVariable => -1;

    /// <summary>
    /// False for a model whose output is graded, not spikes (<c>rate_tanh</c>): it never reports a spike, reaches other
    /// populations only through its exported trace (<see cref="CouplingTraceVariable"/>, so only targets that
    /// <see cref="TakesTraceInput"/>), and the validator refuses escape noise on it, rate monitors of it and spike
    /// projections from it. Default true.
    /// </summary>
    public virtual bool EmitsSpikes => true;

    /// <summary>The fixed-point grid 2^-G of the exported trace (it must stay on it for the coupling to be exact).</summary>
    public virtual int CouplingTraceBits(NeuronParameters parameters) => 0;

    /// <summary>True when the model adds an input from trace-coupled projections (<see cref="IDenseKernel{T}.TraceInput"/>).</summary>
    public virtual bool TakesTraceInput => false;

    /// <summary>
    /// The largest value the exported coupling trace can take for these parameters at time step
    /// <paramref name="dtMs"/> (GoalLif's hz: 1, the default). The compiler sizes the trace-coupling weight grid so that
    /// Σ|q|·2^G_in·bound stays below 2^53, which keeps W·trace an exact sum for every reachable trace.
    /// </summary>
    public virtual double CouplingTraceBound(NeuronParameters parameters, double dtMs) => 1.0;

    /// <summary>
    /// The population's instantaneous recurrent coupling, resolved one spike at a time inside a tick
    /// (<see cref="Models.FastCoupling"/>: docs/architecture.md, "Fast coupling"), or null for models whose neurons
    /// threshold independently. A model that returns one runs <see cref="Models.FastCoupling.Resolve"/> as its event
    /// Threshold step and <see cref="IDenseKernel{T}.ResolveFastCoupling"/> in its dense step; its reference step only
    /// integrates (returns false), and the reference loop applies the greedy resolution after it.
    /// </summary>
    public virtual FastCoupling? FastCouplingOf(ModelConstants constants) => null;

    /// <summary>
    /// False for models that cannot take escape noise (a model with a fast coupling, whose threshold is the greedy
    /// resolution): the validator refuses <c>noise</c> on such a population and the conformance generator draws none.
    /// </summary>
    public virtual bool SupportsEscapeNoise => true;

    /// <summary>
    /// Model-specific checks of a parameter record beyond the [Positive]/[NonNegative] attributes (which the validator
    /// applies to every model): each problem as (parameter key, message).
    /// </summary>
    public virtual IEnumerable<(string Key, string Message)> Validate(NeuronParameters parameters) => [];

    /// <summary>
    /// Discretises the parameters of one population for the time step <see cref="ModelCompileContext.DtMs"/>: draws the
    /// per-neuron values (<see cref="ModelCompileContext.Draw"/>), computes every propagator (exp) once, in C#, and sets
    /// the constant drive. Throws through <see cref="ModelCompileContext.Error"/> for a drawn value out of range.
    /// </summary>
    public abstract ModelConstants Compile(NeuronParameters parameters, ModelCompileContext context);

    /// <summary>
    /// Writes the initial state of one instance into <paramref name="state"/> (one array per stored variable, length n).
    /// Shared by every engine and the reference: initial values are part of the specification (counter RNG keyed by
    /// seed, population, variable and instance, <see cref="InitialValues"/>).
    /// </summary>
    public abstract void Initialise(CompiledPopulation population, ulong seed, int instance, double[][] state);

    /// <summary>Creates the event-engine state and kernel of one population in one instance.</summary>
    internal abstract PopulationState CreateEventState(CompiledPopulation population, EventStateContext context);

    /// <summary>
    /// The part of the dense step that trace-coupled inputs depend on (GoalLif: hz and ej), run for every population
    /// before the coupling W·trace is formed; default nothing.
    /// </summary>
    public virtual void DenseTraces<T>(IDenseKernel<T> k) where T : class { }

    /// <summary>
    /// Why the dense engine cannot run this population bit-exactly (e.g. an unquantized comparison mode), or null. The
    /// dense engine refuses the network with this message.
    /// </summary>
    public virtual string? DenseRefusal(CompiledPopulation population) => null;

    /// <summary>The dense step of one tick (Deliver, Integrate, Threshold/Reset) for [B, n] state; returns the spike mask.</summary>
    public abstract T DenseStep<T>(IDenseKernel<T> k) where T : class;

    /// <summary>The trace part of the reference step for neuron <paramref name="i"/> (see <see cref="DenseTraces{T}"/>); default nothing.</summary>
    public virtual void ReferenceTraces(ModelConstants constants, int i, Span<double> state) { }

    /// <summary>
    /// One tick of neuron <paramref name="i"/> (population-local) as a plain scalar transcription of the model page:
    /// the conformance specs' reference. <paramref name="state"/> holds the neuron's stored variables.
    /// </summary>
    /// <returns>Whether the neuron spikes in this tick.</returns>
    public abstract bool ReferenceStep(ModelConstants constants, int i, in ReferenceInput input, Span<double> state, ref long lastSpike);

    /// <summary>True when the model has an exact propagator and crossing search for the precise engine (otherwise it refuses the model).</summary>
    public virtual bool SupportsPrecise => false;

    /// <summary>
    /// The model's exact propagator and crossing search over one population for the precise engine, from its initial
    /// state (<paramref name="initial"/>, the stored variables) and constant drive; null when <see cref="SupportsPrecise"/> is false.
    /// </summary>
    /// <param name="eager">The reference mode the engine's specs compare against (e.g. root searches at once instead of bounds).</param>
    internal virtual Precise.PrecisePopulation? CreatePrecise(CompiledPopulation population, Precise.PreciseClock clock, double[][] initial, double[] drive, bool eager) => null;

    /// <summary>True when the model supplies a pseudo-derivative ψ = ∂z/∂v surrogate (<see cref="PseudoDerivative"/>).</summary>
    public virtual bool HasPseudoDerivative => false;

    /// <summary>
    /// Writes the pseudo-derivative ψ_i of every neuron from its stored state (one array per variable) into
    /// <paramref name="psi"/>, for gradient-based rules (the surrogate is part of the neuron model, not of the rule).
    /// </summary>
    public virtual void PseudoDerivative(ModelConstants constants, IReadOnlyList<double[]> state, Span<double> psi)
        => throw new InvalidOperationException($"model {Name} has no pseudo-derivative");

    /// <summary>
    /// A random parameter record in the model's working range, for the generated conformance specs (and fuzzing):
    /// <paramref name="heterogeneous"/> draws per-neuron distributions so that the per-neuron kernels are exercised, not
    /// only the broadcast ones of homogeneous populations.
    /// </summary>
    public abstract NeuronParameters SampleParameters(Random rng, double dtMs, bool heterogeneous);

    /// <summary>What the conformance generator needs to drive this model (weight scale, noise, current amplitude).</summary>
    public virtual ConformanceHints Hints => new();

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>
    /// Initial values of one instance: element i of <paramref name="value"/> drawn with the key (seed,
    /// PopulationValues(population, "init:" + key), instance), minus <paramref name="offset"/>[i] when given (a frame shift).
    /// </summary>
    protected static void InitialValues(CompiledPopulation population, ulong seed, int instance, Value value, string key, Span<double> dest,
        ReadOnlySpan<double> offset = default)
    {
        ulong k = CounterRng.Key(seed, RngStreams.PopulationValues(population.Index, "init:" + key), (ulong)instance, 0);
        for (int i = 0; i < dest.Length; i++) dest[i] = value.Draw(k, i) - (offset.IsEmpty ? 0.0 : offset[i]);
    }
}

/// <summary>A model with typed parameters and constants: the casts happen here, once.</summary>
/// <typeparam name="TParameters">The parameter record.</typeparam>
/// <typeparam name="TConstants">The compiled per-neuron constants.</typeparam>
public abstract class NeuronModelDefinition<TParameters, TConstants> : NeuronModelDefinition
    where TParameters : NeuronParameters, new()
    where TConstants : ModelConstants
{
    /// <inheritdoc/>
    public sealed override Type ParametersType => typeof(TParameters);

    /// <inheritdoc/>
    public sealed override ModelConstants Compile(NeuronParameters parameters, ModelCompileContext context) => Compile((TParameters)parameters, context);

    /// <inheritdoc cref="NeuronModelDefinition.Compile"/>
    protected abstract TConstants Compile(TParameters parameters, ModelCompileContext context);

    /// <inheritdoc/>
    public sealed override IEnumerable<(string Key, string Message)> Validate(NeuronParameters parameters) => Validate((TParameters)parameters);

    /// <inheritdoc cref="NeuronModelDefinition.Validate"/>
    protected virtual IEnumerable<(string Key, string Message)> Validate(TParameters parameters) => [];

    /// <inheritdoc/>
    public sealed override void Initialise(CompiledPopulation population, ulong seed, int instance, double[][] state)
        => Initialise(population, (TParameters)population.Spec.Parameters, (TConstants)population.Constants, seed, instance, state);

    /// <inheritdoc cref="NeuronModelDefinition.Initialise"/>
    protected abstract void Initialise(CompiledPopulation population, TParameters parameters, TConstants constants, ulong seed, int instance, double[][] state);

    /// <inheritdoc/>
    public sealed override bool ReferenceStep(ModelConstants constants, int i, in ReferenceInput input, Span<double> state, ref long lastSpike)
        => ReferenceStep((TConstants)constants, i, input, state, ref lastSpike);

    /// <inheritdoc cref="NeuronModelDefinition.ReferenceStep"/>
    protected abstract bool ReferenceStep(TConstants c, int i, in ReferenceInput input, Span<double> state, ref long lastSpike);

    /// <inheritdoc/>
    public sealed override void ReferenceTraces(ModelConstants constants, int i, Span<double> state) => ReferenceTraces((TConstants)constants, i, state);

    /// <inheritdoc cref="NeuronModelDefinition.ReferenceTraces"/>
    protected virtual void ReferenceTraces(TConstants c, int i, Span<double> state) { }

    /// <inheritdoc/>
    public sealed override NeuronParameters SampleParameters(Random rng, double dtMs, bool heterogeneous) => Sample(rng, dtMs, heterogeneous);

    /// <inheritdoc cref="NeuronModelDefinition.SampleParameters"/>
    protected abstract TParameters Sample(Random rng, double dtMs, bool heterogeneous);
}

/// <summary>One stored state variable of a model.</summary>
/// <param name="Name">Name in the model's frame (checkpoints, plasticity context), e.g. <c>u_mv</c>.</param>
/// <param name="Unit">Unit, e.g. "mV", "1" (dimensionless), "a.u.".</param>
/// <param name="Description">What it is, e.g. "membrane potential relative to E_L".</param>
public sealed record StateVariable(string Name, string Unit, string Description)
{
    /// <summary>Name reported to monitors in absolute units (e.g. <c>v_mv</c> = u_mv + E_L); null: the stored name.</summary>
    public string? ReportedAs { get; init; }

    /// <summary>The reported name.</summary>
    public string Reported => ReportedAs ?? Name;
}

/// <summary>What the conformance generator needs to drive a model.</summary>
/// <param name="WeightScale">Multiplies the generated weights (1: weights of 0.01–40 in the model's unit).</param>
/// <param name="NoiseDeltaV">δv of escape noise when a case asks for noise.</param>
/// <param name="CurrentAmplitude">Largest amplitude of a generated injected current.</param>
public sealed record ConformanceHints(double WeightScale = 1.0, double NoiseDeltaV = 2.0, double CurrentAmplitude = 15.0);

/// <summary>
/// The compiled per-neuron constants of one population (GeNN's DERIVED parameters, NEST's P_ after pre_run_hook):
/// computed once in C#, read by every engine as the same doubles. Subclasses hold typed arrays; the dense engine
/// uploads <see cref="DenseArrays"/> as [n] tensors.
/// </summary>
/// <param name="size">Neurons in the population.</param>
public abstract class ModelConstants(int size)
{
    /// <summary>Neurons.</summary>
    public int Size { get; } = size;

    /// <summary>The per-neuron arrays the dense kernel reads, in the index order of <see cref="IDenseKernel{T}.Constant"/>.</summary>
    public abstract IReadOnlyList<double[]> DenseArrays { get; }

    /// <summary>Refractory period per neuron in ticks, or null for models without refractoriness.</summary>
    public virtual long[]? RefractoryTicks => null;
}

/// <summary>What a model's <see cref="NeuronModelDefinition.Compile"/> may use: draws, checks and the constant drive.</summary>
public sealed class ModelCompileContext
{
    private readonly NetworkSpec _spec;
    private readonly int _population;

    internal ModelCompileContext(NetworkSpec spec, int population)
    {
        _spec = spec;
        _population = population;
        Size = spec.Populations[population].Size;
        ConstantDrive = new double[Size];
    }

    /// <summary>Neurons in the population.</summary>
    public int Size { get; }
    /// <summary>Time step (ms).</summary>
    public double DtMs => _spec.Run.DtMs;
    /// <summary>
    /// The constant part of the drive per neuron (the model's I_ext term; zeros by default), to which injected currents
    /// are added (CompiledPopulation.DriveInto).
    /// </summary>
    public double[] ConstantDrive { get; set; }

    /// <summary>
    /// The per-neuron values of parameter <paramref name="key"/> (file key, e.g. <c>tau_mem_ms</c>), drawn from stream
    /// PopulationValues(population, key), element = neuron (<see cref="NetworkCompiler.DrawPopulationValues"/>).
    /// </summary>
    public double[] Draw(Value value, string key) => NetworkCompiler.DrawPopulationValues(_spec, _population, value, key);

    /// <summary>As <see cref="Draw"/>, refusing any value that is not &gt; 0.</summary>
    public double[] DrawPositive(Value value, string key)
    {
        var a = Draw(value, key);
        for (int i = 0; i < a.Length; i++)
            if (!(a[i] > 0)) throw Error(key, $"neuron {i} drew {Value.Fmt(a[i])}; must be > 0");
        return a;
    }

    /// <summary>A duration drawn per neuron and rounded to whole ticks round(t/dt) (the one rounding rule, <see cref="TimeGrid.Ticks"/>).</summary>
    /// <param name="ms">The drawn durations (ms) before rounding.</param>
    public long[] DrawTicks(Value value, string key, out double[] ms)
    {
        ms = Draw(value, key);
        var t = new long[ms.Length];
        for (int i = 0; i < t.Length; i++)
        {
            if (!(ms[i] >= 0)) throw Error(key, $"neuron {i} drew {Value.Fmt(ms[i])}; must be ≥ 0");
            double ticks = Math.Round(ms[i] / DtMs, MidpointRounding.AwayFromZero);
            if (!(ticks <= int.MaxValue)) throw Error(key, $"neuron {i} drew {Value.Fmt(ms[i])} ms, {ticks:E3} ticks of {Value.Fmt(DtMs)} ms; at most 2^31 − 1 ticks");
            t[i] = (int)TimeGrid.Ticks(ms[i], DtMs);
        }
        return t;
    }

    /// <summary>An error at <c>populations[p].params.KEY</c>, located in the file when the spec came from one.</summary>
    public SpecException Error(string key, string message) => NetworkCompiler.Error(_spec, $"populations[{_population}].params.{key}", message);
}

/// <summary>The instance-wide arrays an event-engine population state may share with the engine.</summary>
/// <param name="TraceInput">Per global neuron id: the trace-coupled input W·trace of this tick (length N).</param>
/// <param name="HasTraceInput">True when the population receives <paramref name="TraceInput"/> this run (its model takes
/// trace input and the network has trace-coupled projections): the same condition under which the dense engine hands
/// the model a non-null <see cref="IDenseKernel{T}.TraceInput"/>.</param>
internal sealed record EventStateContext(double[] TraceInput, bool HasTraceInput);
