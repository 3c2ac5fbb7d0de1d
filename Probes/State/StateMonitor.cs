using Sim.EventCore.Compilation;
using Sim.EventCore.Description;
using Sim.EventCore.Engine;

namespace Sim.Probes.State;

/// <summary>
/// Samples state variables of chosen neurons of one population every k ticks (Brian2 <c>StateMonitor</c>),
/// k = round(interval_ms / dt) ≥ 1, for every instance of a batch. The observer sees the state after tick t, i.e. at
/// time (t + 1)·dt; it samples after the ticks t with (t + 1) mod k = 0, so the samples lie at times k·dt, 2k·dt, …
/// (the initial state at time 0 is not sampled). Values are in the variable's absolute unit (e.g. v_mv in mV).
/// Handles are resolved once per instance (<see cref="IStateReader.Resolve"/>); storage grows by doubling, so a
/// sample allocates nothing except on the rare growth steps (pre-sized for the network's run duration).
/// </summary>
public sealed class StateMonitor : IStepObserver
{
    private readonly InstanceBuffer[] _buffers;
    private readonly int _populationIndex;

    private sealed class InstanceBuffer(int capacitySamples, int valuesPerSample)
    {
        public double[] Values = new double[capacitySamples * valuesPerSample]; // [sample][variable][neuron]
        public long[] Ticks = new long[capacitySamples];
        public int Samples;
        public StateHandle[]? Handles;
    }

    /// <summary>Creates a monitor from a <see cref="StateMonitorSpec"/>.</summary>
    public StateMonitor(CompiledNetwork network, StateMonitorSpec spec, int batchSize = 1, int firstInstance = 0)
        : this(network, spec.Population, spec.Variables, spec.Indices, spec.IntervalMs, batchSize, firstInstance) { }

    /// <summary>Creates a monitor.</summary>
    /// <param name="network">The network being run.</param>
    /// <param name="population">Population name.</param>
    /// <param name="variables">Variable names, from <c>ReportedVariableNames</c> of the population's model.</param>
    /// <param name="indices">Population-local neuron indices to sample.</param>
    /// <param name="intervalMs">Sampling interval (ms), rounded to whole ticks (at least one).</param>
    /// <param name="batchSize">Number of instances.</param>
    /// <param name="firstInstance">Instance index of batch element 0.</param>
    public StateMonitor(CompiledNetwork network, string population, IReadOnlyList<string> variables, IReadOnlyList<int> indices,
        double intervalMs, int batchSize = 1, int firstInstance = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var pop = network.Population(population);
        var allowed = pop.Model.ReportedVariableNames;
        foreach (var v in variables)
            if (!allowed.Contains(v))
                throw new ArgumentException($"'{v}' is not a state variable of {pop.Model.Name} (population '{population}'); known: {string.Join(", ", allowed)}", nameof(variables));
        foreach (int i in indices)
            if (i < 0 || i >= pop.Size) throw new ArgumentOutOfRangeException(nameof(indices), $"neuron index {i} is outside population '{population}' of size {pop.Size}");
        if (variables.Count == 0 || indices.Count == 0) throw new ArgumentException("a state monitor needs at least one variable and one neuron");
        Network = network;
        Population = pop.Name;
        _populationIndex = pop.Index;
        Variables = [.. variables];
        Indices = [.. indices];
        IntervalTicks = Math.Max(1, TimeGrid.Ticks(intervalMs, network.DtMs));
        BatchSize = batchSize;
        FirstInstance = firstInstance;
        // Presized for the whole run (no doubling and copying while it runs; MonitorSet.EstimateBytes counts it up front).
        int capacity = (int)Math.Clamp(network.DurationTicks / IntervalTicks + 1, 1, Array.MaxLength / Math.Max(1, Variables.Count * Indices.Count));
        _buffers = new InstanceBuffer[batchSize];
        for (int b = 0; b < batchSize; b++) _buffers[b] = new InstanceBuffer(capacity, Variables.Count * Indices.Count);
    }

    /// <summary>The network.</summary>
    public CompiledNetwork Network { get; }
    /// <summary>Population name.</summary>
    public string Population { get; }
    /// <summary>Recorded variables.</summary>
    public IReadOnlyList<string> Variables { get; }
    /// <summary>Recorded population-local neuron indices.</summary>
    public IReadOnlyList<int> Indices { get; }
    /// <summary>Ticks between samples (k).</summary>
    public long IntervalTicks { get; }
    /// <summary>Sampling interval (ms) = k · dt.</summary>
    public double IntervalMs => IntervalTicks * Network.DtMs;
    /// <summary>Number of instances.</summary>
    public int BatchSize { get; }
    /// <summary>Instance index of batch element 0.</summary>
    public int FirstInstance { get; }

    /// <inheritdoc />
    public void OnStep(int instance, long tick, IStateReader state)
    {
        if ((tick + 1) % IntervalTicks != 0) return;
        var buf = _buffers[instance - FirstInstance];
        var handles = buf.Handles ??= Resolve(state);
        int perSample = handles.Length * Indices.Count;
        if (buf.Samples == buf.Ticks.Length) Grow(buf, perSample);
        var values = buf.Values.AsSpan(buf.Samples * perSample, perSample);
        int k = 0;
        for (int v = 0; v < handles.Length; v++)
            for (int j = 0; j < Indices.Count; j++)
                values[k++] = state.Read(in handles[v], Indices[j]);
        buf.Ticks[buf.Samples++] = tick;
    }

    /// <summary>Number of samples taken in batch element <paramref name="batchIndex"/>.</summary>
    public int SampleCount(int batchIndex) => _buffers[batchIndex].Samples;

    /// <summary>The tick after which each sample was taken.</summary>
    public long[] SampleTicks(int batchIndex) => _buffers[batchIndex].Ticks.AsSpan(0, _buffers[batchIndex].Samples).ToArray();

    /// <summary>Time of each sample (ms) = (tick + 1) · dt.</summary>
    public double[] TimesMs(int batchIndex)
    {
        var buf = _buffers[batchIndex];
        var t = new double[buf.Samples];
        for (int s = 0; s < t.Length; s++) t[s] = TimeGrid.TimeMs(buf.Ticks[s] + 1, Network.DtMs);
        return t;
    }

    /// <summary>Samples of one variable: [sample, neuron] with neurons in <see cref="Indices"/> order.</summary>
    public double[,] Values(int batchIndex, string variable)
    {
        int v = -1;
        for (int i = 0; i < Variables.Count; i++) if (Variables[i] == variable) v = i;
        if (v < 0) throw new ArgumentException($"variable '{variable}' is not recorded by this monitor", nameof(variable));
        var buf = _buffers[batchIndex];
        int n = Indices.Count, perSample = Variables.Count * n;
        var result = new double[buf.Samples, n];
        for (int s = 0; s < buf.Samples; s++)
            for (int j = 0; j < n; j++) result[s, j] = buf.Values[s * perSample + v * n + j];
        return result;
    }

    private StateHandle[] Resolve(IStateReader state)
    {
        var handles = new StateHandle[Variables.Count];
        for (int v = 0; v < handles.Length; v++) handles[v] = state.Resolve(_populationIndex, Variables[v]);
        return handles;
    }

    private static void Grow(InstanceBuffer buf, int perSample)
    {
        int capacity = Math.Max(4, buf.Ticks.Length * 2);
        Array.Resize(ref buf.Ticks, capacity);
        Array.Resize(ref buf.Values, capacity * perSample);
    }
}
