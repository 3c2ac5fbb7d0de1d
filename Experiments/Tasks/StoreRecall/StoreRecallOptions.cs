using Sim.EventCore.Engine;
using Sim.Plasticity;

namespace Sim.Experiments;

/// <summary>Options of one store-and-recall cell (docs/tasks/store_recall.md, docs/rules/rank_r.md). Defaults are the paper's.</summary>
public sealed record StoreRecallOptions
{
    /// <summary>N, recurrent GoalLif neurons.</summary>
    public int Neurons { get; init; } = 150;
    /// <summary>T, steps per trial (dt = 1 ms).</summary>
    public int Steps { get; init; } = 150;
    /// <summary>O, outputs.</summary>
    public int Outputs { get; init; } = 3;
    /// <summary>Clock channels.</summary>
    public int ClockChannels { get; init; } = 5;
    /// <summary>Leading target steps set to zero.</summary>
    public int ZeroSteps { get; init; } = 8;
    /// <summary>R, rank of the feedback (O ≤ R ≤ N); ignored when <see cref="Ltts"/>.</summary>
    public int Rank { get; init; } = 150;
    /// <summary>Use the LTTS feedback D = mean(diag(B·Bᵀ))·I instead of the rank-R one.</summary>
    public bool Ltts { get; init; }
    /// <summary>Use the output-space form of the rule (Eq. 8, <see cref="OutputSpaceFeedback"/>) with B⁺ = B[:, :R].</summary>
    public bool OutputSpace { get; init; }
    /// <summary>τ⋆ in units of dt (the filter of target and network spikes and the readout's τ_o).</summary>
    public double TauStarDt { get; init; } = 4.64;
    /// <summary>Epochs of online recurrent learning.</summary>
    public int Epochs { get; init; } = 100;
    /// <summary>Seed of every random draw.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Index of the cell (task instance) in the random streams.</summary>
    public ulong Cell { get; init; }
    /// <summary>σ_in of W_in ~ N(0, σ_in²).</summary>
    public double InputSd { get; init; } = 22;
    /// <summary>σ_trg of W_teach ~ N(0, σ_trg²).</summary>
    public double TeacherSd { get; init; } = 8;
    /// <summary>Readout training: full-batch iterations.</summary>
    public int ReadoutIterations { get; init; } = 5000;
    /// <summary>Readout training: learning rate.</summary>
    public double ReadoutLearningRate { get; init; } = 0.0025;
    /// <summary>η of the recurrent rule and how it was chosen; null: 5/√N.</summary>
    public LearningRate? LearningRate { get; init; }
    /// <summary>
    /// When set (and <see cref="LearningRate"/> is not), η = this/‖D‖₂: every feedback takes the same largest step
    /// (<see cref="Plasticity.LearningRate.PerFeedbackNorm"/>).
    /// </summary>
    public double? StepPerFeedbackNorm { get; init; }
    /// <summary>
    /// When set, the rule's η changes from epoch to epoch as a learning-rate controller answers the epoch's MSE
    /// (<see cref="Plasticity.Controllers.ControlledSgd"/>: η_e = 2η₀·k_e, η₀ the rate above, k₁ = 0.5); null: a fixed η.
    /// </summary>
    public Plasticity.Controllers.EtaControllerKind? EtaController { get; init; }
    /// <summary>
    /// Per-trial updates (<see cref="UpdateMode.PerTrial"/>): the rule sums its directions over an epoch and applies them
    /// once at its end; false (the paper's protocol): online, every tick.
    /// </summary>
    public bool PerTrial { get; init; }
    /// <summary>F of the W_rec grid 2^-F, fixed in advance (W_rec starts at 0).</summary>
    public int RecurrentWeightFractionBits { get; init; } = 20;
    /// <summary>
    /// The unquantized float64 comparison run of docs/models/goal_lif.md ("Grids"): hz and ej not rounded, W_rec·hz summed
    /// in source order with the rule's float64 weights (GoalLif trace_fraction_bits: 0). Event engine only.
    /// </summary>
    public bool Unquantized { get; init; }

    /// <summary>
    /// The authors' one-step lag (docs/tasks/store_recall.md, "Conventions"): the teacher drive of tick t is
    /// u = W_teach·y*[t−1] (0 at tick 0), so the spikes it produces are read out against the target of the next tick,
    /// as in myscience/goal, where the drive of step t makes the spikes of step t+1, compared with y*[t+1]. False (Sim's
    /// default, the paper's text): the drive of tick t is W_teach·y*[t].
    /// </summary>
    public bool TeacherLag { get; init; }
    /// <summary>
    /// σ_rec of the initial recurrent weights W_rec ~ N(0, σ_rec²) (counter RNG, purpose
    /// <see cref="PlasticityRandom.InitialRecurrentPurpose"/>): the same W drives the teacher run (there with its
    /// self-connections, as the authors' <c>train.py</c>, which leaves the neuron class's default σ_rec = 1) and is the
    /// start of learning (there without its diagonal: the learned projection has no autapses; the authors' code zeroes
    /// the diagonal after the first update, so only the first step of the first epoch differs). 0 (Sim's default, the
    /// paper's text): W_rec = 0.
    /// </summary>
    public double InitialRecurrentSd { get; init; }

    /// <summary>The conventions of the authors' code (myscience/goal <c>src/train.py</c>): <see cref="TeacherLag"/> and σ_rec = 1.</summary>
    public StoreRecallOptions WithAuthorsConventions() => this with { TeacherLag = true, InitialRecurrentSd = 1.0 };

    /// <summary>Whether both of the authors' conventions are on.</summary>
    public bool HasAuthorsConventions => TeacherLag && InitialRecurrentSd == 1.0;

    /// <summary>The conventions in words for reports: "Sim's (no lag, W_rec = 0)", "the authors'", or each setting.</summary>
    public string ConventionsName => HasAuthorsConventions ? "the authors' (teacher lag, sigma_rec = 1)"
        : !TeacherLag && InitialRecurrentSd == 0 ? "Sim's (no teacher lag, W_rec = 0)"
        : FormattableString.Invariant($"teacher lag {(TeacherLag ? "on" : "off")}, sigma_rec = {InitialRecurrentSd}");

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        static void Need(bool ok, string name, string what) { if (!ok) throw new ArgumentException($"{name}: {what}"); }
        Need(Neurons >= 2, nameof(Neurons), "must be ≥ 2");
        Need(Outputs >= 1 && Outputs <= Neurons, nameof(Outputs), "must lie in [1, N]");
        Need(ClockChannels >= 1, nameof(ClockChannels), "must be ≥ 1");
        Need(Steps > ClockChannels, nameof(Steps), "must exceed the number of clock channels");
        Need(ZeroSteps >= 0 && ZeroSteps < Steps, nameof(ZeroSteps), "must lie in [0, T)");
        Need(Ltts || (Rank >= Outputs && Rank <= Neurons), nameof(Rank), $"must lie in [O, N] = [{Outputs}, {Neurons}]");
        Need(!(OutputSpace && Ltts), nameof(OutputSpace), "the output-space form needs a rank R, not the LTTS feedback");
        Need(TauStarDt > 0 && double.IsFinite(TauStarDt), nameof(TauStarDt), "must be finite and > 0");
        Need(Epochs >= 0, nameof(Epochs), "must be ≥ 0");
        Need(ReadoutIterations >= 0 && ReadoutLearningRate > 0, nameof(ReadoutIterations), "iterations ≥ 0 and a positive learning rate");
        Need(StepPerFeedbackNorm is null || (StepPerFeedbackNorm > 0 && double.IsFinite(StepPerFeedbackNorm.Value)), nameof(StepPerFeedbackNorm), "must be finite and > 0");
        Need(InitialRecurrentSd >= 0 && double.IsFinite(InitialRecurrentSd), nameof(InitialRecurrentSd), "must be finite and ≥ 0");
        Need(StepPerFeedbackNorm is null || LearningRate is null, nameof(StepPerFeedbackNorm), "excludes an explicit LearningRate");
    }
}

/// <summary>Result of one store-and-recall cell.</summary>
/// <param name="ReadoutLimit">MSE of the trained readout on the target traces ŝ* (the best the recurrent learning can reach).</param>
/// <param name="Mse">Per epoch: mean over t, k of (y* − y)², y = W_out·ŝ during the learning pass.</param>
/// <param name="SpikeError">Per epoch: ΔS = Σ_{t,i} |z*_i[t] − z_i[t]|.</param>
/// <param name="TargetSpikes">Σ z* (for scale).</param>
/// <param name="SecondsPerEpoch">Wall time per learning epoch.</param>
/// <param name="Feedback">"rank R", "LTTS" or "output space (Eq. 8), R = …".</param>
/// <param name="Optimizer">Optimizer and learning rate, by name.</param>
public sealed record StoreRecallResult(double ReadoutLimit, double[] Mse, double[] SpikeError, long TargetSpikes, double SecondsPerEpoch,
    string Feedback, string Optimizer)
{
    /// <summary>The engine that ran the learning epochs (<see cref="ISimulationEngine.EngineName"/>).</summary>
    public string Engine { get; init; } = "event";
    /// <summary>The learning rate used (and how it was chosen).</summary>
    public required LearningRate Rate { get; init; }
    /// <summary>‖D‖₂ of the feedback (D = B⁺B⁺ᵀ for the output-space form), see <see cref="Plasticity.Feedback.Norms"/>.</summary>
    public double FeedbackNorm { get; init; }
    /// <summary>tr D.</summary>
    public double FeedbackTrace { get; init; }
    /// <summary>
    /// The recalled trajectory y[t][k] = (W_out·ŝ[t])_k of the last epoch, when every epoch ran (empty after a
    /// cancellation or a failure: the epoch in progress then left a partial trace).
    /// </summary>
    public double[][] FinalOutput { get; init; } = [];
    /// <summary>
    /// Why learning stopped before the last epoch (e.g. a weight write beyond the exact range of the grid, from too
    /// large a learning rate), or null; <see cref="Mse"/> and <see cref="SpikeError"/> hold the epochs completed before.
    /// </summary>
    public string? Failure { get; init; }
    /// <summary>η of every completed epoch (constant without <see cref="StoreRecallOptions.EtaController"/>).</summary>
    public double[] EtaPerEpoch { get; init; } = [];
}
