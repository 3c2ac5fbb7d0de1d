using System.Numerics.Tensors;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// An instantaneous recurrent coupling inside one population, resolved one spike at a time within a tick
/// (docs/architecture.md, "Fast coupling"; docs/models/ebn.md). A grid engine that let every neuron above threshold
/// fire in the same tick would let all of them act on stale voltages: in a spike-coding network (Boerlin, Machens &amp;
/// Denève 2013; Alemi, Machens, Denève &amp; Slotine 2018) the fast weights are what keeps the others from firing for
/// the same error, so firing them together synchronises the network and blows it up. The canonical resolution:
/// <code>
/// z ← 0
/// repeat:  j ← argmax_{i : z_i = 0} (v_i − θ_i)  over v_i − θ_i &gt; 0   (largest overshoot; ties: lowest index)
///          if none: stop
///          z_j ← 1;  s_j ← s_j + jump                 (the model's jump variable, e.g. the slow trace r)
///          v_i ← v_i + W_f[j][i]   for every i        (one IEEE add per neuron, column j of the fast weights; i = j resets)
/// spikes of the tick: every j with z_j = 1, reported in ascending index
/// </code>
/// A neuron fires at most once per tick (it is excluded once it has fired; the reset through its own fast weight
/// W_f[j][j] normally takes it far below threshold anyway). The fast weights are integers q on the power-of-two grid
/// 2^-F (w = q·2^-F, exact as a double), so they are the same doubles in every engine and can be written to a file
/// exactly; both grid engines and the reference apply the same adds in the same order, so they agree bit for bit.
/// Cost per tick: O(n) per spike plus one O(n) scan per spike and one final scan; nothing is allocated.
/// </summary>
public sealed class FastCoupling
{
    /// <param name="size">Neurons n of the population.</param>
    /// <param name="variable">The stored variable the fast weights act on (the membrane v).</param>
    /// <param name="spikeVariable">The stored 0/1 spike variable z of the tick.</param>
    /// <param name="jumpVariable">A stored variable that jumps by <paramref name="jump"/> when its neuron fires, or −1.</param>
    /// <param name="jump">The jump (exactly representable; e.g. 1 for a spike count trace).</param>
    /// <param name="threshold">θ per neuron (+∞ never fires).</param>
    /// <param name="q">The fast weights q[j·n + i] from neuron j to neuron i, on the grid 2^-<paramref name="fractionBits"/>.</param>
    /// <param name="fractionBits">F.</param>
    public FastCoupling(int size, int variable, int spikeVariable, int jumpVariable, double jump, double[] threshold, long[] q, int fractionBits)
    {
        if (threshold.Length != size) throw new ArgumentException($"threshold has {threshold.Length} values for {size} neurons", nameof(threshold));
        if (q.LongLength != (long)size * size) throw new ArgumentException($"q has {q.LongLength} values for {size}×{size} fast weights", nameof(q));
        Size = size;
        Variable = variable;
        SpikeVariable = spikeVariable;
        JumpVariable = jumpVariable;
        Jump = jump;
        Threshold = threshold;
        Q = q;
        FractionBits = fractionBits;
        double unit = FixedPoint.Scale(fractionBits);
        Weight = new double[q.Length];
        for (int k = 0; k < q.Length; k++) Weight[k] = q[k] * unit;   // |q| ≤ 2^53: exact
    }

    /// <summary>Neurons n.</summary>
    public int Size { get; }
    /// <summary>The stored variable receiving the fast weights (v).</summary>
    public int Variable { get; }
    /// <summary>The stored 0/1 spike variable (z).</summary>
    public int SpikeVariable { get; }
    /// <summary>The stored variable that jumps on a spike, or −1.</summary>
    public int JumpVariable { get; }
    /// <summary>Its jump.</summary>
    public double Jump { get; }
    /// <summary>θ per neuron.</summary>
    public double[] Threshold { get; }
    /// <summary>Integer fast weights, [source j][target i] (row j is what neuron j's spike adds).</summary>
    public long[] Q { get; }
    /// <summary>F of the grid 2^-F.</summary>
    public int FractionBits { get; }
    /// <summary>w = q·2^-F, [source j][target i].</summary>
    public double[] Weight { get; }

    /// <summary>
    /// The greedy resolution on one instance's state (see the class summary); appends the spiking neurons' global ids
    /// (<paramref name="offset"/> + i) in ascending order. Returns the number of spikes.
    /// </summary>
    public int Resolve(double[] v, double[] z, double[]? jumpTarget, int offset, int[] spikes, ref int count)
    {
        int n = Size;
        double[] theta = Threshold;
        Array.Clear(z);
        int fired = 0;
        while (true)
        {
            int best = -1;
            double top = 0;   // strict: an overshoot must be > 0, and > every earlier one (so the lowest index wins ties)
            for (int i = 0; i < n; i++)
            {
                if (z[i] != 0) continue;
                double o = v[i] - theta[i];
                if (o > top) { top = o; best = i; }
            }
            if (best < 0) break;
            z[best] = 1;
            if (jumpTarget is not null) jumpTarget[best] = jumpTarget[best] + Jump;
            TensorPrimitives.Add(v, Weight.AsSpan(best * n, n), v);
            fired++;
        }
        if (fired > 0)
            for (int i = 0; i < n; i++)
                if (z[i] != 0) spikes[count++] = offset + i;
        return fired;
    }
}
