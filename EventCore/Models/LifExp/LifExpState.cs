using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sim.EventCore.Compilation;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Models;

/// <summary>
/// The LifExp event kernel, in the frame u = v − E_L (docs/models/lif_exp.md). One tick:
/// <code>
/// Deliver:   g_e ← acc_e·2^-F + g_e;  g_i ← acc_i·2^-F + g_i   (computed at the start of the Integrate pass)
/// Integrate: a ← u·α_m;  a ← g_e·P_e + a;  a ← g_i·P_i + a;  [a ← drive·(1−α_m) + a];  g_e ← g_e·α_e;  g_i ← g_i·α_i
/// Threshold: if t − t_last &lt; n_ref: u unchanged (held at reset); else u ← a, and if u &gt; θ_u (or escape): spike, u ← u_r, t_last ← t
/// </code>
/// </summary>
internal sealed class LifExpState : PopulationState
{
    private readonly LifExpConstants _c;
    private readonly double _scale;
    public readonly double[] U, GExc, GInh;

    public LifExpState(CompiledPopulation p) : base(p)
    {
        _c = (LifExpConstants)p.Constants;
        _scale = FixedPoint.Scale(p.WeightFractionBits);
        U = State[LifExpModel.U]; GExc = State[LifExpModel.GExc]; GInh = State[LifExpModel.GInh];
        _fused = Vector.IsHardwareAccelerated && _c.UniformPropagators && _c.UniformThreshold && !(p.NoiseDeltaV > 0) && Size > 0;
    }

    // Delivery is fused into the integration pass (one sweep over the neurons instead of two): Deliver only remembers
    // where this tick's sums are; Integrate adds them to g first, exactly as the contract orders, and clears them.
    private double[] _accExc = [], _accInh = [];
    private int _accStart;

    public override void Deliver(double[] accExc, double[] accInh, int start)
    {
        _accExc = accExc;
        _accInh = accInh;
        _accStart = start;
    }

    // Homogeneous, noise-free populations run Integrate and Threshold as one pass in Threshold (nothing reads the state
    // between the two phases): the candidate membrane a never goes through memory, and u and the refractory clock are
    // loaded once. Per element the operations are those of the two separate passes, in the same order (both call
    // UniformStep). Its time is counted under the Threshold phase (Integrate then shows ≈ 0 for such populations).
    private readonly bool _fused;

    public override void Integrate(in TickContext ctx)
    {
        if (!_fused) IntegrateCore();
    }

    private void IntegrateCore()
    {
        // One fused pass; per element exactly the sequence of the class comment (unfused multiply, then add).
        int n = Size, i = 0;
        bool drive = HasDrive;
        ref double u = ref MemoryMarshal.GetArrayDataReference(U);
        ref double ge = ref MemoryMarshal.GetArrayDataReference(GExc);
        ref double gi = ref MemoryMarshal.GetArrayDataReference(GInh);
        ref double a = ref MemoryMarshal.GetArrayDataReference(Scratch);
        ref double ae = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_accExc), _accStart);
        ref double ai = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_accInh), _accStart);
        ref double am = ref MemoryMarshal.GetArrayDataReference(_c.AlphaMem);
        ref double pe = ref MemoryMarshal.GetArrayDataReference(_c.PExc);
        ref double pi = ref MemoryMarshal.GetArrayDataReference(_c.PInh);
        ref double de = ref MemoryMarshal.GetArrayDataReference(_c.AlphaExc);
        ref double di = ref MemoryMarshal.GetArrayDataReference(_c.AlphaInh);
        ref double dr = ref MemoryMarshal.GetArrayDataReference(Drive);
        ref double dg = ref MemoryMarshal.GetArrayDataReference(_c.DriveGain);
        if (Vector.IsHardwareAccelerated && _c.UniformPropagators && n > 0)
        {
            // Homogeneous population: the same operations with broadcast constants (fewer memory streams).
            int w = Vector<double>.Count;
            var scale = new Vector<double>(_scale);
            Vector<double> vam = new(_c.AlphaMem[0]), vpe = new(_c.PExc[0]), vpi = new(_c.PInh[0]);
            Vector<double> vde = new(_c.AlphaExc[0]), vdi = new(_c.AlphaInh[0]), vdg = new(_c.DriveGain[0]);
            for (; i <= n - w; i += w)
            {
                nuint k = (nuint)i;
                var va = UniformStep(ref ae, ref ai, ref ge, ref gi, Vector.LoadUnsafe(ref u, k), k, scale, vam, vpe, vpi, vde, vdi);
                if (drive) va = Vector.LoadUnsafe(ref dr, k) * vdg + va;
                va.StoreUnsafe(ref a, k);
            }
        }
        else if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<double>.Count;
            var scale = new Vector<double>(_scale);
            for (; i <= n - w; i += w)
            {
                nuint k = (nuint)i;
                var vge = Vector.LoadUnsafe(ref ae, k) * scale + Vector.LoadUnsafe(ref ge, k);
                var vgi = Vector.LoadUnsafe(ref ai, k) * scale + Vector.LoadUnsafe(ref gi, k);
                Vector<double>.Zero.StoreUnsafe(ref ae, k);
                Vector<double>.Zero.StoreUnsafe(ref ai, k);
                var va = Vector.LoadUnsafe(ref u, k) * Vector.LoadUnsafe(ref am, k);
                va = vge * Vector.LoadUnsafe(ref pe, k) + va;
                va = vgi * Vector.LoadUnsafe(ref pi, k) + va;
                if (drive) va = Vector.LoadUnsafe(ref dr, k) * Vector.LoadUnsafe(ref dg, k) + va;
                va.StoreUnsafe(ref a, k);
                (vge * Vector.LoadUnsafe(ref de, k)).StoreUnsafe(ref ge, k);
                (vgi * Vector.LoadUnsafe(ref di, k)).StoreUnsafe(ref gi, k);
            }
        }
        for (; i < n; i++) Scratch[i] = IntegrateOne(i, drive, ref ae, ref ai);
    }

    /// <summary>
    /// The uniform Integrate step for one vector of neurons at offset k, without the drive (shared by the Integrate pass
    /// and the fused Integrate+Threshold pass): g ← acc·2^-F + g, the ring slots cleared, a ← u·α_m + g_e·P_e + g_i·P_i
    /// (unfused, in that order, as the class comment), g ← g·α. Inlined, so the constants stay in registers (a struct
    /// holding them was measured 35–40 % slower on CUBA).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> UniformStep(ref double ae, ref double ai, ref double ge, ref double gi, Vector<double> vu, nuint k,
        Vector<double> scale, Vector<double> vam, Vector<double> vpe, Vector<double> vpi, Vector<double> vde, Vector<double> vdi)
    {
        var vge = Vector.LoadUnsafe(ref ae, k) * scale + Vector.LoadUnsafe(ref ge, k);
        var vgi = Vector.LoadUnsafe(ref ai, k) * scale + Vector.LoadUnsafe(ref gi, k);
        Vector<double>.Zero.StoreUnsafe(ref ae, k);
        Vector<double>.Zero.StoreUnsafe(ref ai, k);
        var va = vu * vam;
        va = vge * vpe + va;
        va = vgi * vpi + va;
        (vge * vde).StoreUnsafe(ref ge, k);
        (vgi * vdi).StoreUnsafe(ref gi, k);
        return va;
    }

    /// <summary>One neuron of the Integrate pass (the scalar tail of the vector loops): returns the candidate a.</summary>
    private double IntegrateOne(int i, bool drive, ref double ae, ref double ai)
    {
        ref double accE = ref Unsafe.Add(ref ae, i);
        ref double accI = ref Unsafe.Add(ref ai, i);
        double gE = accE * _scale + GExc[i];
        double gI = accI * _scale + GInh[i];
        accE = 0;
        accI = 0;
        double x = U[i] * _c.AlphaMem[i];
        x = gE * _c.PExc[i] + x;
        x = gI * _c.PInh[i] + x;
        if (drive) x = Drive[i] * _c.DriveGain[i] + x;
        GExc[i] = gE * _c.AlphaExc[i];
        GInh[i] = gI * _c.AlphaInh[i];
        return x;
    }

    public override void Threshold(in TickContext ctx, int[] spikes, ref int spikeCount)
    {
        if (Population.NoiseDeltaV > 0)
            EscapeThreshold(ctx, U, Scratch, _c.ThetaU, _c.ResetU, _c.Refractory, spikes, ref spikeCount);
        else if (_fused)
            IntegrateAndThreshold(ctx.Tick, spikes, ref spikeCount);
        else
            ThresholdKernel.Run(ctx.Tick, U, Scratch, _c.ThetaU, _c.ResetU, LastSpike, _c.Refractory, Offset, spikes, ref spikeCount, _c.UniformThreshold);
    }

    /// <summary>
    /// The uniform Integrate pass followed, element by element, by the uniform threshold kernel
    /// (<see cref="ThresholdKernel.Run"/>): a ← …; active = t − last ≥ n_ref; u ← active ? a : u; fire = u &gt; θ ∧ active.
    /// </summary>
    private void IntegrateAndThreshold(long t, int[] spikes, ref int spikeCount)
    {
        int n = Size, i = 0, w = Vector<double>.Count;
        bool drive = HasDrive;
        ref double u = ref MemoryMarshal.GetArrayDataReference(U);
        ref double ge = ref MemoryMarshal.GetArrayDataReference(GExc);
        ref double gi = ref MemoryMarshal.GetArrayDataReference(GInh);
        ref double ae = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_accExc), _accStart);
        ref double ai = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_accInh), _accStart);
        ref double dr = ref MemoryMarshal.GetArrayDataReference(Drive);
        ref long rl = ref MemoryMarshal.GetArrayDataReference(LastSpike);
        var scale = new Vector<double>(_scale);
        Vector<double> vam = new(_c.AlphaMem[0]), vpe = new(_c.PExc[0]), vpi = new(_c.PInh[0]);
        Vector<double> vde = new(_c.AlphaExc[0]), vdi = new(_c.AlphaInh[0]), vdg = new(_c.DriveGain[0]);
        var vth = new Vector<double>(_c.ThetaU[0]);
        var vn = new Vector<long>(_c.Refractory[0]);
        var vt = new Vector<long>(t);
        double[] uArr = U, reset = _c.ResetU;
        long[] last = LastSpike;
        for (; i <= n - w; i += w)
        {
            nuint k = (nuint)i;
            var vu = Vector.LoadUnsafe(ref u, k);
            var va = UniformStep(ref ae, ref ai, ref ge, ref gi, vu, k, scale, vam, vpe, vpi, vde, vdi);
            if (drive) va = Vector.LoadUnsafe(ref dr, k) * vdg + va;
            var active = Vector.GreaterThanOrEqual(vt - Vector.LoadUnsafe(ref rl, k), vn);
            var un = Vector.ConditionalSelect(active, va, vu);
            var fire = Vector.GreaterThan(un, vth) & active;
            un.StoreUnsafe(ref u, k);
            if (fire != Vector<long>.Zero)
                for (int l = 0; l < w; l++)
                    if (fire[l] != 0)
                    {
                        // ThresholdKernel.Fire written out: calling it here cost 5–10 % on CUBA (measured).
                        uArr[i + l] = reset[i + l];
                        last[i + l] = t;
                        spikes[spikeCount++] = Offset + i + l;
                    }
        }
        for (; i < n; i++)
        {
            double x = IntegrateOne(i, drive, ref ae, ref ai);
            if (t - last[i] < _c.Refractory[i]) continue;
            U[i] = x;
            if (x > _c.ThetaU[i]) ThresholdKernel.Fire(i, t, uArr, reset, last, Offset, spikes, ref spikeCount);
        }
    }
}
