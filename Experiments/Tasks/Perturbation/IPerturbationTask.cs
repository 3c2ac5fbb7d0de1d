using Sim.Plasticity.Perturbation;

namespace Sim.Experiments;

/// <summary>
/// A task for a linear readout trained by perturbation (docs/tasks/perturbation.md): the inputs and target of each
/// trial, the rules' optimal learning rates and equalised perturbation strengths, and the exact expected learning curve.
/// </summary>
public interface IPerturbationTask
{
    /// <summary>N, the readout's inputs.</summary>
    int Inputs { get; }
    /// <summary>M, the outputs.</summary>
    int Outputs { get; }
    /// <summary>T, time bins per trial.</summary>
    int Duration { get; }
    /// <summary>The error of the initial weights W = 0.</summary>
    double InitialError { get; }
    /// <summary>E_opt: the smallest error any weights reach (the irreducible error).</summary>
    double IrreducibleError { get; }
    /// <summary>One line describing the task for summaries.</summary>
    string Description { get; }

    /// <summary>Writes the inputs x (N × T) and the target y* (M × T) of trial <paramref name="trial"/> of <paramref name="seed"/>.</summary>
    void Trial(ulong seed, long trial, Span<double> x, Span<double> target);

    /// <summary>The learning rate that makes the error fall fastest at σ → 0 (for the reservoir: the paper's estimate).</summary>
    double OptimalLearningRate(PerturbationRule rule);

    /// <summary>The rule's own σ for the equalised strength σ_eff (the s.d. of the output perturbation per output and time bin).</summary>
    double PerturbationStrength(PerturbationRule rule, double sigmaEff);

    /// <summary>The expected unperturbed error of trials 0..trials−1 from W = 0 (the closed-form recursion).</summary>
    double[] PredictedError(PerturbationRule rule, double eta, double sigma, double weightDecay, int trials);

    /// <summary>The limit of <see cref="PredictedError"/> without decay (∞ where the recursion diverges, NaN where the task has none to offer).</summary>
    double PredictedFinalError(PerturbationRule rule, double eta, double sigma);
}
