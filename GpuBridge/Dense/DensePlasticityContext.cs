using Sim.EventCore.Compilation;
using Sim.EventCore.Engine;

namespace Sim.GpuBridge;

/// <summary>
/// The <see cref="IPlasticityContext"/> of a <see cref="DenseEngine"/> (batch of one): state rows of batch element 0 are
/// copied to the CPU on first use in a tick and kept until the tick ends; trace rows are written into the compiled table
/// (with its exactness check) and mirrored into the dense W_rec, uploaded to the device at the end of the tick.
/// </summary>
internal sealed class DensePlasticityContext(CompiledNetwork network, DensePopulation[] populations, DenseTraceCoupling coupling) : IPlasticityContext
{
    private readonly Dictionary<(int Population, string Name, bool Frame), double[]> _rows = [];

    /// <inheritdoc/>
    public CompiledNetwork Network => network;

    /// <summary>Forgets the copies of the previous tick.</summary>
    public void BeginTick() => _rows.Clear();

    /// <summary>Uploads the W_rec of every population a rule wrote to.</summary>
    public void EndTick()
    {
        coupling.Upload();
        _rows.Clear();
    }

    /// <inheritdoc/>
    public ReadOnlySpan<double> Variable(int population, string variable) => Row(population, variable, true);

    /// <inheritdoc/>
    public void SetTraceRow(int target, ReadOnlySpan<long> q)
    {
        bool inSync = coupling.InSync;
        network.SetTraceRow(target, q);   // checks Σ|q|·2^G_in < 2^53 and throws, row unchanged, beyond it
        coupling.MirrorRow(target, inSync);
    }

    /// <inheritdoc/>
    public void SetTraceRowWeights(int target, ReadOnlySpan<double> weights)
    {
        bool inSync = coupling.InSync;
        network.SetTraceRowWeights(target, weights);   // the same checks, after rounding onto the grid
        coupling.MirrorRow(target, inSync);
    }

    /// <inheritdoc/>
    public double Read(int population, string variable, int index) => Row(population, variable, false)[index];

    /// <inheritdoc/>
    public StateHandle Resolve(int population, string variable)
    {
        var model = network.Populations[population].Model;
        int k = model.VariableIndex(variable);
        if (k < 0) throw new ArgumentException($"'{variable}' is not a state variable of population {population} ({string.Join(", ", model.ReportedVariableNames)})", nameof(variable));
        return new StateHandle(population, k);
    }

    /// <inheritdoc/>
    public double Read(in StateHandle handle, int index)
        => Read(handle.Population, network.Populations[handle.Population].Model.ReportedVariableNames[handle.Variable], index);

    // frame: the model frame of Variable (checkpoint names); otherwise absolute units (IStateReader names).
    private double[] Row(int population, string name, bool frame)
    {
        if (_rows.TryGetValue((population, name, frame), out var row)) return row;
        var pop = populations[population];
        row = frame ? pop.ReadFrame(0, name) : pop.Read(0, name);
        _rows[(population, name, frame)] = row;
        return row;
    }
}
