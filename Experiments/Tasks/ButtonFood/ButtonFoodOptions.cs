namespace Sim.Experiments;

/// <summary>How the cloning error reaches the neurons (docs/tasks/button_food.md, "Feedback").</summary>
public enum CloningFeedback
{
    /// <summary>
    /// The authors' default ("diagonal"): D = I/R on the first R neurons, 0 elsewhere. Only those R neurons learn their
    /// incoming weights, and with <see cref="ButtonFoodOptions.Clamp"/> they are clamped to their target spikes.
    /// </summary>
    Diagonal,
    /// <summary>The authors' "random" option: B ~ N(0, 1/R) of shape R×N, D = BᵀB (rank R, every neuron learns).</summary>
    Random,
}

/// <summary>
/// Options of one Button &amp; Food run (docs/tasks/button_food.md). Defaults are the authors' (myscience/LTTS-BC
/// <c>config.json</c>, BUTTON_FOOD): N = 300, dt = 1 ms, τ_m = 6, τ_s = 2, τ_ro = 10, τ⋆ = 5 ms, σ_in = 5, σ_teach = 3,
/// σ_hint = 5, σ_rec = 0.0707, 250 epochs over the 5 training angles, Adam with lr 0.01 for both the recurrent and the
/// readout weights, the diagonal clamped feedback.
/// </summary>
public sealed record ButtonFoodOptions
{
    /// <summary>N, recurrent GoalLif neurons.</summary>
    public int Neurons { get; init; } = 300;
    /// <summary>The environment.</summary>
    public ButtonFoodGeometry Geometry { get; init; } = new();
    /// <summary>τ_m (ms).</summary>
    public double TauMemMs { get; init; } = 6;
    /// <summary>τ_s (ms).</summary>
    public double TauSynMs { get; init; } = 2;
    /// <summary>τ_ro (ms): the readout's filter of the spikes.</summary>
    public double TauReadoutMs { get; init; } = 10;
    /// <summary>τ⋆ (ms): the spike-timing tolerance of the cloning error.</summary>
    public double TauStarMs { get; init; } = 5;
    /// <summary>σ_in of J_in ~ N(0, σ_in²) (N × 80).</summary>
    public double InputSd { get; init; } = 5;
    /// <summary>σ_teach of J_teach ~ N(0, σ_teach²) (N × 2): the expert's action as the teacher drive.</summary>
    public double TeacherSd { get; init; } = 3;
    /// <summary>σ_hint of J_hint ~ N(0, σ_hint²) (N × 2): the phase hint, given only when making the target spikes.</summary>
    public double HintSd { get; init; } = 5;
    /// <summary>Give the phase hint (hint₀ = 1 before the expert's pause, hint₁ = 1 from it on) to the target run.</summary>
    public bool Hint { get; init; } = true;
    /// <summary>σ_rec of the starting recurrent weights J ~ N(0, σ_rec²), no self-connections (the same for every rank of a seed).</summary>
    public double RecurrentSd { get; init; } = 0.07071067811865475;
    /// <summary>Bumps per coordinate of the Gaussian population code (on [−1, 1], width 2/bumps).</summary>
    public int Bumps { get; init; } = 20;
    /// <summary>The feedback form.</summary>
    public CloningFeedback Feedback { get; init; } = CloningFeedback.Diagonal;
    /// <summary>Clamp the R learning neurons to their target spikes while cloning (diagonal feedback only; the authors' default).</summary>
    public bool Clamp { get; init; } = true;
    /// <summary>Epochs of cloning (each: the training angles in a shuffled order, one trial each, online updates).</summary>
    public int Epochs { get; init; } = 250;
    /// <summary>Epochs of readout training (each: one Adam step per training angle, shuffled).</summary>
    public int ReadoutEpochs { get; init; } = 250;
    /// <summary>Adam's η for the recurrent weights.</summary>
    public double LearningRate { get; init; } = 0.01;
    /// <summary>Adam's η for the readout.</summary>
    public double ReadoutLearningRate { get; init; } = 0.01;
    /// <summary>η ← η·this at each decay (both optimizers; the authors' 0.9).</summary>
    public double DecayFactor { get; init; } = 0.9;
    /// <summary>The training angles (degrees).</summary>
    public IReadOnlyList<double> TrainAnglesDeg { get; init; } = [50, 70, 90, 110, 130];
    /// <summary>The test angles (degrees): linspace(30, 150, 120) by default.</summary>
    public IReadOnlyList<double> TestAnglesDeg { get; init; } = Linspace(30, 150, 120);
    /// <summary>Seed of every random draw (one seed = one of the authors' repetitions: every matrix redrawn).</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>F of the recurrent weight grid 2^-F.</summary>
    public int RecurrentWeightFractionBits { get; init; } = 20;

    /// <summary>Optimizer steps between decays of the recurrent η: the authors' max(epochs/10, 1)·T (2000 for 250 epochs).</summary>
    public long RecurrentDecayEvery => Math.Max(Epochs / 10, 1) * (long)Geometry.Steps;
    /// <summary>Optimizer steps between decays of the readout η: the authors' max(epochs/10, 1) (25 for 250 epochs).</summary>
    public long ReadoutDecayEvery => Math.Max(ReadoutEpochs / 10, 1);
    /// <summary>Ticks of a cloning or readout trial: T − 1 (the authors' loops run T − 1 steps).</summary>
    public int TrialTicks => Geometry.Steps - 1;

    /// <summary>n points from a to b inclusive (NumPy's linspace).</summary>
    public static double[] Linspace(double a, double b, int n)
        => n == 1 ? [a] : [.. Enumerable.Range(0, n).Select(k => a + k * (b - a) / (n - 1))];

    /// <summary>The authors' ranks: linspace(1, N, 10) cast to int (1, 34, 67, …, 300 for N = 300).</summary>
    public static int[] DefaultRanks(int n) => [.. Linspace(1, n, 10).Select(x => (int)x).Distinct()];

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the option.</summary>
    public void Validate()
    {
        Geometry.Validate();
        if (Neurons < 2) throw new ArgumentException($"neurons: must be at least 2, got {Neurons}");
        foreach (var (name, v) in new[] { ("tau-mem", TauMemMs), ("tau-syn", TauSynMs), ("tau-readout", TauReadoutMs), ("tau-star", TauStarMs) })
            if (!(v > 0) || !double.IsFinite(v)) throw new ArgumentException($"{name}: must be a finite time > 0 ms, got {v}");
        foreach (var (name, v) in new[] { ("input-sd", InputSd), ("teacher-sd", TeacherSd), ("hint-sd", HintSd), ("rec-sd", RecurrentSd) })
            if (!(v >= 0) || !double.IsFinite(v)) throw new ArgumentException($"{name}: must be finite and >= 0, got {v}");
        if (Bumps < 2) throw new ArgumentException($"bumps: must be at least 2, got {Bumps}");
        if (Epochs < 0 || ReadoutEpochs < 0) throw new ArgumentException("epochs: must be >= 0");
        if (!(LearningRate > 0) || !(ReadoutLearningRate > 0) || !double.IsFinite(LearningRate) || !double.IsFinite(ReadoutLearningRate)) throw new ArgumentException("learning rates must be finite and > 0");
        if (!(DecayFactor > 0 && DecayFactor <= 1)) throw new ArgumentException($"decay: must lie in (0, 1], got {DecayFactor}");
        if (TrainAnglesDeg.Count == 0 || TestAnglesDeg.Count == 0) throw new ArgumentException("the training and test angles must not be empty");
        if (TrainAnglesDeg.Concat(TestAnglesDeg).Any(a => !double.IsFinite(a))) throw new ArgumentException("angles must be finite");
        if (Clamp && Feedback != CloningFeedback.Diagonal) throw new ArgumentException("clamp: only the diagonal feedback clamps (its R learning neurons); use --no-clamp with the random feedback");
        if (RecurrentWeightFractionBits is < 8 or > 40) throw new ArgumentException($"recurrent weight grid: F must lie in [8, 40], got {RecurrentWeightFractionBits}");
    }

    /// <summary>Checks a rank against N.</summary>
    public void ValidateRank(int rank)
    {
        if (rank < 1 || rank > Neurons) throw new ArgumentException($"rank: must lie in [1, {Neurons}] (N), got {rank}");
    }
}
