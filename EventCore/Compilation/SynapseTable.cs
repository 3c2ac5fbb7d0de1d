namespace Sim.EventCore.Compilation;

/// <summary>
/// Spike-coupled synapses in CSR by source, each row split into segments of equal (delay, receptor) with targets
/// ascending (Auryn's row layout, grouped by delay). 16 bytes per synapse (int target, int q, double exact delay) plus 9 bytes per segment.
/// The weight of synapse k is Q[k]·2^-F, F the <see cref="CompiledPopulation.WeightFractionBits"/> of its target's population.
/// Receptor 0 takes q ≥ 0 (excitatory), receptor 1 q &lt; 0 (inhibitory).
/// </summary>
public sealed class SynapseTable
{
    // The arrays are read-only to everyone outside EventCore: the delivery kernel runs without bounds checks on the
    // strength of one validation (DeliveryKernel.Validate), which a later write could silently invalidate.

    /// <summary>Segments of source s: [SegmentOffsets[s], SegmentOffsets[s+1]).</summary>
    public ReadOnlySpan<int> SegmentOffsets => SegmentOffsetsArray;
    /// <summary>Delay of each segment (ticks ≥ 1).</summary>
    public ReadOnlySpan<int> SegmentDelay => SegmentDelayArray;
    /// <summary>Receptor of each segment (0 exc, 1 inh).</summary>
    public ReadOnlySpan<byte> SegmentReceptor => SegmentReceptorArray;
    /// <summary>Synapses of segment g: [SegmentStart[g], SegmentStart[g+1]); one sentinel entry at the end.</summary>
    public ReadOnlySpan<int> SegmentStart => SegmentStartArray;
    /// <summary>Global target neuron id.</summary>
    public ReadOnlySpan<int> Target => TargetArray;
    /// <summary>Weight on the grid of the target's population.</summary>
    public ReadOnlySpan<int> Q => QArray;

    internal int[] SegmentOffsetsArray { get; init; } = [];
    internal int[] SegmentDelayArray { get; init; } = [];
    internal byte[] SegmentReceptorArray { get; init; } = [];
    internal int[] SegmentStartArray { get; init; } = [];
    internal int[] TargetArray { get; init; } = [];
    internal int[] QArray { get; init; } = [];
    /// <summary>Set once <see cref="Engine.DeliveryKernel.Validate"/> has passed (the arrays cannot change afterwards).</summary>
    internal bool Validated { get; set; }
    /// <summary>
    /// Exact delay (ms) of each synapse as drawn from the description, before rounding to ticks (same order as
    /// <see cref="Target"/>); used by continuous-time engines (PreciseEngine). Within a segment all round to its tick delay.
    /// Kept only when compiled with <c>exactDelays: true</c> (8 more bytes per synapse); null otherwise.
    /// </summary>
    public double[]? DelayMs { get; init; }
    /// <summary>Projection index of each segment (for reporting and per-projection access).</summary>
    public required int[] SegmentProjection { get; init; }
    /// <summary>Largest delay (ticks), at least 1.</summary>
    public required int MaxDelayTicks { get; init; }
    /// <summary>Number of synapses.</summary>
    public int Count => TargetArray.Length;
    /// <summary>Bytes held by the table.</summary>
    public long Bytes => (long)TargetArray.Length * (DelayMs is null ? 8 : 16) + (long)SegmentDelayArray.Length * (4 + 1 + 4 + 4) + (long)SegmentOffsetsArray.Length * 4;
}

/// <summary>
/// Trace-coupled synapses: from a population whose model exports a coupling trace (GoalLif: hz) to one whose model takes
/// trace input; they act through the presynaptic trace without delay (docs/models/goal_lif.md) rather than through
/// delayed spikes. CSR by target: rec_i = (Σ_k Q[k]·H[Source[k]])·2^-(F+G), with H = trace·2^G integers, so the sum is
/// exact in any order (the compiler checks Σ|Q|·2^G &lt; 2^53 per row; plastic writes keep that bound). Immutable: these
/// are the initial weights; plastic weights live per instance.
/// </summary>
public sealed class TraceCouplingTable
{
    /// <summary>The table of rows <paramref name="rowStart"/>, sources <paramref name="source"/>, grid weights <paramref name="q"/> and projections.</summary>
    /// <param name="rowStart">Rows by target.</param>
    /// <param name="source">Source of each synapse.</param>
    /// <param name="q">Grid weight of each synapse.</param>
    /// <param name="projection">Projection of each synapse.</param>
    /// <param name="inexactUnit">Per target neuron: 0 for an exact row, else the row's 2^-F (its QValue then holds w = q·2^-F).</param>
    internal TraceCouplingTable(int[] rowStart, int[] source, long[] q, int[] projection, double[] inexactUnit)
    {
        RowStart = rowStart;
        Source = source;
        QArray = q;
        ProjectionArray = projection;
        QValueArray = new double[q.Length];
        for (int i = 0; i < rowStart.Length - 1; i++)
            for (int k = rowStart[i]; k < rowStart[i + 1]; k++)
                QValueArray[k] = inexactUnit[i] == 0 ? q[k] : q[k] * inexactUnit[i];   // exact: |q| < 2^53 (row bound); w = q·2^-F exact too
        Runs = RowRuns.Of(rowStart, source);
    }

    /// <summary>Row of target neuron i: [RowStart[i], RowStart[i+1]); length NeuronCount + 1.</summary>
    public int[] RowStart { get; }
    /// <summary>Global source neuron id.</summary>
    public int[] Source { get; }
    /// <summary>Weight on the trace-weight grid of the target population.</summary>
    public ReadOnlySpan<long> Q => QArray;
    /// <summary>Projection index (in the description) of each synapse.</summary>
    public ReadOnlySpan<int> Projection => ProjectionArray;

    internal long[] QArray { get; }
    internal int[] ProjectionArray { get; }
    /// <summary>Number of synapses.</summary>
    public int Count => Source.Length;

    /// <summary>
    /// <see cref="Q"/> as float64 (exact: every |Q| &lt; 2^53 by the row bound), so that engines can form
    /// (rows into a population without <see cref="CompiledPopulation.ExactTraceInput"/> hold the weights w = Q·2^-F instead)
    /// Σ_k Q[k]·trace[Source[k]] in float64: every product and every partial sum is an integer multiple of 2^-G below
    /// 2^53·2^-G, hence exact in any order (and with or without fused multiply-add), which lets the sum be vectorised.
    /// </summary>
    public ReadOnlySpan<double> QValue => QValueArray;

    /// <summary>The storage of <see cref="QValue"/>.</summary>
    internal double[] QValueArray { get; }

    /// <summary>
    /// The rows cut into runs of consecutive source ids (an all-to-all row without autapses is two runs), for kernels that
    /// read the presynaptic traces as contiguous slices instead of gathering them. Built with the table (the layout is fixed).
    /// </summary>
    public RowRuns Runs { get; }

    /// <summary>Rows of a CSR table cut into runs of consecutive source ids.</summary>
    public sealed class RowRuns
    {
        /// <summary>Runs of row i: [RowRunStart[i], RowRunStart[i+1]).</summary>
        public required int[] RowRunStart { get; init; }
        /// <summary>First synapse index of a run.</summary>
        public required int[] First { get; init; }
        /// <summary>First source id of a run (the run's sources are First..First+Length−1 in order).</summary>
        public required int[] FirstSource { get; init; }
        /// <summary>Number of synapses in a run.</summary>
        public required int[] Length { get; init; }

        internal static RowRuns Of(int[] rowStart, int[] source)
        {
            int rows = rowStart.Length - 1;
            var runStart = new int[rows + 1];
            var first = new List<int>(); var firstSrc = new List<int>(); var len = new List<int>();
            for (int i = 0; i < rows; i++)
            {
                runStart[i] = first.Count;
                for (int k = rowStart[i]; k < rowStart[i + 1];)
                {
                    int e = k + 1;
                    while (e < rowStart[i + 1] && source[e] == source[e - 1] + 1) e++;
                    first.Add(k); firstSrc.Add(source[k]); len.Add(e - k);
                    k = e;
                }
            }
            runStart[rows] = first.Count;
            return new RowRuns { RowRunStart = runStart, First = [.. first], FirstSource = [.. firstSrc], Length = [.. len] };
        }
    }
}
