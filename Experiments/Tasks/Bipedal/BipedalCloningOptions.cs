using System.Globalization;

namespace Sim.Experiments;

/// <summary>
/// Options of one cell of the walker's behavioural cloning (docs/tasks/bipedal.md; MODELS §4.3, the authors' walker
/// protocol): N = 500 <c>goal_lif_euler</c> neurons (τ_m = 4 ms forward Euler, τ_s = 2 ms, dt = 1 ms), σ_in = 2,
/// σ_teach = 1, τ_ro = τ⋆, 400 training steps of one expert episode, another for validation, recurrent learning rate
/// 3.75e-3·√(N/R)·0.4/std(W_out), weights clipped to [−10, 10] after each iteration.
/// </summary>
public sealed record BipedalCloningOptions
{
    /// <summary>N, recurrent neurons.</summary>
    public int Neurons { get; init; } = 500;
    /// <summary>R, the feedback's rank (4 ≤ R ≤ N: the first 4 columns of B are the readout).</summary>
    public int Rank { get; init; } = 4;
    /// <summary>τ⋆ (ms): the error's spike-timing tolerance; also the readout's τ_ro.</summary>
    public double TauStarMs { get; init; } = 0.1;
    /// <summary>τ_m (ms) of the forward-Euler membrane.</summary>
    public double TauMemMs { get; init; } = 4;
    /// <summary>τ_s (ms).</summary>
    public double TauSynMs { get; init; } = 2;
    /// <summary>σ_in of W_in ~ N(0, σ_in²) (N × 24), applied to the raw observation.</summary>
    public double InputSd { get; init; } = 2;
    /// <summary>σ_teach of W_teach ~ N(0, σ_teach²) (N × 4), the expert's action as the teacher drive of the target run.</summary>
    public double TeacherSd { get; init; } = 1;
    /// <summary>Steps of the training demonstration used (the authors' 400).</summary>
    public int TrainSteps { get; init; } = 400;
    /// <summary>Training iterations; each: one online epoch over the training steps, weight clip, readout retraining, closed-loop test.</summary>
    public int Iterations { get; init; } = 20;
    /// <summary>Adam steps of the readout (pre-training and each retraining), full batch over the training steps.</summary>
    public int ReadoutSteps { get; init; } = 500;
    /// <summary>Adam's η of the readout.</summary>
    public double ReadoutLearningRate { get; init; } = 0.01;
    /// <summary>The base rate η₀ of the recurrent SGD: η = η₀·√(N/R)·<see cref="LearningRateFactor"/>/std(W_out).</summary>
    public double BaseLearningRate { get; init; } = 3.75e-3;
    /// <summary>The factor 0.4 of the authors' rate.</summary>
    public double LearningRateFactor { get; init; } = 0.4;
    /// <summary>Scale η by √(N/R) (the walker code's scaling); false: η = η₀·factor/std(W_out).</summary>
    public bool ScaleBySqrtNOverR { get; init; } = true;
    /// <summary>|W_rec| ≤ this after each iteration.</summary>
    public double WeightClip { get; init; } = 10;
    /// <summary>Closed-loop test episodes per test (one per batch instance).</summary>
    public int TestEpisodes { get; init; } = 4;
    /// <summary>Time limit of a test episode (steps).</summary>
    public int TestSteps { get; init; } = 1600;
    /// <summary>Seed of every random draw, of the expert's episodes and of the test terrains.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>The expert's episode trained on (when no <see cref="Demonstration"/> is given).</summary>
    public int TrainEpisode { get; init; }
    /// <summary>The expert's episode used for validation (when no <see cref="ValidationDemonstration"/> is given).</summary>
    public int ValidationEpisode { get; init; } = 1;
    /// <summary>A demonstration to clone instead of the expert's episode (e.g. read by <see cref="DemonstrationFile.Read"/>).</summary>
    public Demonstration? Demonstration { get; init; }
    /// <summary>The validation demonstration instead of the expert's.</summary>
    public Demonstration? ValidationDemonstration { get; init; }
    /// <summary>F of the recurrent weight grid 2^-F (|W| ≤ 10 keeps W_rec·hz exact at N = 500 with the trace grid 2^-20).</summary>
    public int RecurrentWeightFractionBits { get; init; } = 16;

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the option.</summary>
    public void Validate()
    {
        static void Fail(string option, string message) => throw new ArgumentException($"{option}: {message}");
        var inv = CultureInfo.InvariantCulture;
        if (Neurons < 4) Fail("neurons", $"N = {Neurons}; at least 4 (R ≥ 4 outputs)");
        if (Rank < 4 || Rank > Neurons) Fail("rank", string.Create(inv, $"R = {Rank} must be in [4, N = {Neurons}] (the first 4 columns of B are the readout)"));
        if (!(TauStarMs > 0) || !double.IsFinite(TauStarMs)) Fail("tau-star", string.Create(inv, $"τ⋆ = {TauStarMs} ms must be finite and > 0"));
        if (!(TauMemMs > 1)) Fail("tau-mem", string.Create(inv, $"τ_m = {TauMemMs} ms must exceed dt = 1 ms (forward Euler)"));
        if (!(TauSynMs > 0)) Fail("tau-syn", string.Create(inv, $"τ_s = {TauSynMs} ms must be > 0"));
        if (!(InputSd >= 0) || !(TeacherSd >= 0)) Fail("input-sd", "σ_in and σ_teach must be ≥ 0");
        if (TrainSteps < 2) Fail("train-steps", $"{TrainSteps}; at least 2");
        if (Iterations < 0) Fail("iterations", $"{Iterations}; must be ≥ 0");
        if (ReadoutSteps < 1) Fail("readout-steps", $"{ReadoutSteps}; at least 1");
        if (!(ReadoutLearningRate > 0) || !(BaseLearningRate > 0) || !(LearningRateFactor > 0)) Fail("learning-rate", "the learning rates must be > 0");
        if (!(WeightClip > 0)) Fail("weight-clip", "must be > 0");
        if (TestEpisodes < 1) Fail("test-episodes", $"{TestEpisodes}; at least 1");
        if (TestSteps < 1) Fail("time-limit", $"{TestSteps}; at least 1");
        if (TrainEpisode < 0 || ValidationEpisode < 0) Fail("train-episode", "episode indices are ≥ 0");
        if (Demonstration is { } d && d.Steps < TrainSteps) Fail("demonstration", $"has {d.Steps} steps; the protocol trains on {TrainSteps}");
        if (ValidationDemonstration is { } v && v.Steps < 2) Fail("validation-demonstration", $"has {v.Steps} steps; at least 2");
        if (Demonstration is { } d2 && (d2.Observations[0].Length != 24 || d2.Actions[0].Length != 4)) Fail("demonstration", "needs 24 observations and 4 actions per step");
        if (RecurrentWeightFractionBits is < 8 or > 30) Fail("recurrent-weight-fraction-bits", $"{RecurrentWeightFractionBits}; in [8, 30]");
    }
}
