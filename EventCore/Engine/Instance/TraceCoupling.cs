using System.Numerics.Tensors;
using Sim.EventCore.Compilation;
using Sim.EventCore.Models;

namespace Sim.EventCore.Engine;

/// <summary>
/// The trace-coupled input of the event engine, W·trace for every population that takes trace input, as an exact sum:
/// the traces lie on a grid 2^-G_in (every source trace on a grid at least as coarse), so every product q·trace and every
/// partial sum is a multiple of 2^-G_in below 2^53·2^-G_in (the row bound): exact in float64 in any order. Rows made of
/// long runs of consecutive sources (all-to-all) use vectorised dot products over contiguous slices, other rows a gather.
/// "+ 0.0" turns an all −0 sum into +0. A population without exact trace input (the unquantized comparison mode) sums
/// float64 weights in source order instead.
/// </summary>
internal static class TraceCoupling
{
    /// <param name="net">The network (its trace table's layout).</param>
    /// <param name="populations">The instance's populations.</param>
    /// <param name="q">The weights as float64 (the compiled ones or the instance's plastic copy), trace-table order.</param>
    /// <param name="traces">The exported traces by global id.</param>
    /// <param name="input">Receives the input by global id.</param>
    public static void Compute(CompiledNetwork net, PopulationState[] populations, double[] q, double[] traces, double[] input)
    {
        var tr = net.TraceSynapses;
        int[] rowStart = tr.RowStart, src = tr.Source;
        var runs = tr.Runs;
        int[] runStart = runs.RowRunStart, first = runs.First, firstSrc = runs.FirstSource, runLen = runs.Length;
        foreach (var p in populations)
        {
            if (!p.Model.TakesTraceInput) continue;
            if (!p.Population.ExactTraceInput)
            {
                // The unquantized comparison mode: float64 weights, summed in source order (not bit-exact across engines).
                for (int i = p.Offset; i < p.Offset + p.Size; i++)
                {
                    double s = 0;
                    for (int k = rowStart[i]; k < rowStart[i + 1]; k++) s += q[k] * traces[src[k]];
                    input[i] = s;
                }
                continue;
            }
            double unit = Math.ScaleB(1.0, -p.Population.TraceWeightFractionBits);
            for (int i = p.Offset; i < p.Offset + p.Size; i++)
            {
                double sum = 0;
                int r0 = runStart[i], r1 = runStart[i + 1];
                if ((r1 - r0) * 8 <= rowStart[i + 1] - rowStart[i])
                {
                    for (int r = r0; r < r1; r++)
                        sum += TensorPrimitives.Dot(q.AsSpan(first[r], runLen[r]), traces.AsSpan(firstSrc[r], runLen[r]));
                }
                else
                {
                    for (int k = rowStart[i]; k < rowStart[i + 1]; k++) sum += q[k] * traces[src[k]];
                }
                input[i] = (sum + 0.0) * unit;
            }
        }
    }
}
