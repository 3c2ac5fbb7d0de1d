using Sim.EventCore.Engine;

namespace Sim.GpuBridge;

/// <summary>
/// Observer and tick-I/O access to the dense state after a tick, by reported name in absolute units (stored value plus
/// the model's report offset, one IEEE add, as the event engine reports it). Reads go through the
/// <see cref="DenseStateCache"/>: a variable is copied from the device once per tick, on first read, for the whole batch.
/// </summary>
internal sealed class DenseStateReader(DensePopulation[] populations, DenseStateCache cache) : IStateReader
{
    /// <summary>The batch element being observed.</summary>
    public int Batch { get; set; }

    public double Read(int population, string variable, int index) => Read(Resolve(population, variable), index);

    public StateHandle Resolve(int population, string variable)
    {
        var p = populations[population].Pop;
        int v = p.Model.VariableIndex(variable);
        if (v < 0) throw new ArgumentException($"'{variable}' is not a state variable of population '{p.Name}' ({string.Join(", ", p.Model.ReportedVariableNames)})", nameof(variable));
        return new StateHandle(population, v);
    }

    public double Read(in StateHandle handle, int index)
    {
        var p = populations[handle.Population].Pop;
        double x = cache.Variable(handle.Population, handle.Variable, Batch)[index];
        var offset = p.Model.ReportOffset(p.Constants, handle.Variable);
        return offset.IsEmpty ? x : x + offset[index];
    }
}
