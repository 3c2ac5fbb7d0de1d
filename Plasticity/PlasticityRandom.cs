using Sim.EventCore.Numerics;

namespace Sim.Plasticity;

/// <summary>
/// Random draws of the plasticity framework and its protocols, all from the counter-based RNG (docs/numerics.md item 6):
/// a draw is a pure function of (seed, stream, cell, element index). Stream purposes use high-32-bit ids from 0x100 on,
/// apart from EventCore's (1–7).
/// </summary>
public static class PlasticityRandom
{
    /// <summary>Random part of the feedback matrix B.</summary>
    public const uint FeedbackPurpose = 0x100;
    /// <summary>Target trajectory (amplitudes, phases).</summary>
    public const uint TargetPurpose = 0x101;
    /// <summary>Teacher weights W_teach.</summary>
    public const uint TeacherPurpose = 0x102;
    /// <summary>Initial readout W_out.</summary>
    public const uint ReadoutPurpose = 0x103;
    /// <summary>Purpose of an initial recurrent weight matrix (store-and-recall's <c>InitialRecurrentSd</c>).</summary>
    public const uint InitialRecurrentPurpose = 0x104;
    /// <summary>The particles of a learning-rate controller (<see cref="Controllers.VolatilityStochasticityFilter"/>).</summary>
    public const uint ControllerPurpose = 0x120;
    /// <summary>The outcome sequences of the volatility task (random walk and observation noise).</summary>
    public const uint VolatilityTaskPurpose = 0x121;
    /// <summary>The perturbations ξ of the perturbation rules (<see cref="Perturbation.LinearPerturbationReadout"/>), per trial.</summary>
    public const uint PerturbationPurpose = 0x130;
    /// <summary>The trial inputs of the perturbation tasks (which latent inputs a trial of the analytic task switches on).</summary>
    public const uint PerturbationTaskPurpose = 0x131;
    /// <summary>The random weights of the perturbation tasks' reservoir.</summary>
    public const uint ReservoirPurpose = 0x132;
    /// <summary>RFLO's fixed random feedback B (<see cref="RfloCell.RandomFeedback"/>).</summary>
    public const uint RfloFeedbackPurpose = 0x150;
    /// <summary>RFLO's initial readout W_out (<see cref="RfloCell.RandomReadout"/>).</summary>
    public const uint RfloReadoutPurpose = 0x151;
    /// <summary>The generated samples of the rule conformance specs (<see cref="RuleDefinition.Sample"/>).</summary>
    public const uint ConformanceSamplePurpose = 0x110;

    /// <summary>The stream id of a purpose.</summary>
    public static ulong Stream(uint purpose) => (ulong)purpose << 32;

    /// <summary>The key of (seed, purpose, cell).</summary>
    public static ulong Key(ulong seed, uint purpose, ulong cell) => CounterRng.Key(seed, Stream(purpose), cell, 0);

    /// <summary>Standard normal deviate number <paramref name="index"/> of a key (Box–Muller on words 2k, 2k+1).</summary>
    public static double Normal(ulong key, long index)
        => CounterRng.Normal(CounterRng.Word(key, 2UL * (ulong)index), CounterRng.Word(key, 2UL * (ulong)index + 1));

    /// <summary>Uniform deviate in [0, 1) number <paramref name="index"/> of a key.</summary>
    public static double Uniform(ulong key, long index) => CounterRng.Uniform01(CounterRng.Word(key, (ulong)index));
}
