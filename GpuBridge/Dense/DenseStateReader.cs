using Sim.EventCore.Engine;

namespace Sim.GpuBridge;

/// <summary>Observer access to a CPU copy of the dense state after a tick (reported variables, absolute units).</summary>
internal sealed class DenseStateReader(Dictionary<string, double[]>[] values, int[] sizes) : IStateReader
{
    private readonly string[][] _names = [.. values.Select(v => v.Keys.ToArray())];

    /// <summary>The batch element being observed.</summary>
    public int Batch { get; set; }

    public double Read(int population, string variable, int index) => values[population][variable][Batch * sizes[population] + index];

    public StateHandle Resolve(int population, string variable)
    {
        int v = Array.IndexOf(_names[population], variable);
        if (v < 0) throw new ArgumentException($"'{variable}' is not a state variable of population {population}", nameof(variable));
        return new StateHandle(population, v);
    }

    public double Read(in StateHandle handle, int index) => values[handle.Population][_names[handle.Population][handle.Variable]][Batch * sizes[handle.Population] + index];
}
