using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sim.EventCore.Description;
using static Sim.Specs.Precise.PreciseTestSupport;

namespace Sim.Specs.Precise;

/// <summary>
/// No missed spikes: for random single neurons (LifExp with τ_e, τ_i possibly equal to τ_m, or LifDelta) under a constant
/// drive and random excitatory/inhibitory input spikes, the test rebuilds the closed-form trajectory between the engine's
/// events itself and scans it on a 1e-4 ms grid: nowhere outside refractoriness may u exceed θ without an engine spike,
/// and at every continuous-crossing spike the trajectory must be at θ.
/// </summary>
public class PreciseNoMissedSpikesTests
{
    private const double Theta = 10, Ur = -5, Delay = 0.5, Grid = 1e-4, Duration = 40, Tol = 1e-9;

    private sealed record Case(bool Exp, double TauM, double TauE, double TauI, double Drive, double Tref, double[] Times, double[] Weights)
    {
        public override string ToString() => $"exp={Exp} τm={TauM} τe={TauE} τi={TauI} I={Drive} tref={Tref} inputs=[{string.Join(", ", Times.Zip(Weights, (t, w) => $"{t:R}:{w}"))}]";
    }

    private static Case Make(int seed)
    {
        var r = new Random(seed);
        bool exp = r.Next(3) > 0;
        double tm = r.Next(2) == 0 ? 10 : 20;
        double[] te = [2, 5, tm], ti = [5, 10, tm];
        double drive = Theta * (0.5 + 0.8 * r.NextDouble());
        int k = r.Next(5, 25);
        var times = new double[k];
        var weights = new double[k];
        for (int j = 0; j < k; j++)
        {
            times[j] = Math.Round(r.NextDouble() * Duration * 1024) / 1024;
            weights[j] = Math.Round((r.NextDouble() * 24 - 9) * 64) / 64;
        }
        return new Case(exp, tm, te[r.Next(3)], ti[r.Next(3)], exp ? drive : drive / tm, r.Next(3) switch { 0 => 0.5, 1 => 1, _ => 2 }, times, weights);
    }

    [Property(MaxTest = 60)]
    public Property EngineMissesNoThresholdCrossing(NonNegativeInt seed)
    {
        var c = Make(seed.Get);
        NeuronParameters p = c.Exp
            ? new LifExpParameters { TauMemMs = c.TauM, TauExcMs = c.TauE, TauInhMs = c.TauI, ELeakMv = -60, VThresholdMv = -60 + Theta, VResetMv = -60 + Ur, RefractoryMs = c.Tref, IExtMv = c.Drive }
            : new LifDeltaParameters { TauMemMs = c.TauM, ELeakMv = -60, VThresholdMv = -60 + Theta, VResetMv = -60 + Ur, RefractoryMs = c.Tref, IExtMvPerMs = c.Drive };
        var spikes = Spikes(Neuron(p, c.Times, c.Weights, Delay), Duration);
        string? problem = Check(c, spikes);
        return (problem is null).Label($"{c}\nspikes [{string.Join(", ", spikes)}]\n{problem}");
    }

    /// <summary>Returns a description of the first inconsistency, or null.</summary>
    private static string? Check(Case c, double[] spikes)
    {
        var arrivals = c.Times.Select((t, k) => (T: t + Delay, W: c.Weights[k])).Where(a => a.T < Duration).OrderBy(a => a.T).ToList();
        var times = arrivals.Select(a => a.T).Concat(spikes).Append(Duration).Distinct().Order().ToList();
        double t0 = 0, u = 0, ge = 0, gi = 0, refEnd = double.NegativeInfinity;
        int si = 0;
        foreach (double te in times)
        {
            // Scan (t0, te) on the grid.
            for (long g = (long)Math.Floor(t0 / Grid) + 1; g * Grid < te; g++)
            {
                double tg = g * Grid;
                if (tg < refEnd) continue;
                State(c, t0, u, ge, gi, refEnd, tg, out double ug, out _, out _);
                if (ug > Theta + Tol) return $"missed: u({tg:R}) = {ug:R} > θ without a spike";
            }
            State(c, t0, u, ge, gi, refEnd, te, out u, out ge, out gi);
            t0 = te;
            if (te >= Duration) break;
            double jumps = arrivals.Where(a => a.T == te).Sum(a => a.W);
            bool spiked = si < spikes.Length && spikes[si] == te;
            if (spiked)
            {
                si++;
                if (te < refEnd) return $"spike at {te:R} inside the refractory period";
                bool atTheta = Math.Abs(u - Theta) <= 1e-7;
                bool jumped = !c.Exp && u + jumps > Theta;
                if (!atTheta && !jumped) return $"spike at {te:R} but u = {u:R} is not at θ";
                u = Ur;
                refEnd = te + c.Tref;
                if (c.Exp) foreach (var a in arrivals.Where(a => a.T == te)) { if (a.W >= 0) ge += a.W; else gi += a.W; }
            }
            else
            {
                if (c.Exp) foreach (var a in arrivals.Where(a => a.T == te)) { if (a.W >= 0) ge += a.W; else gi += a.W; }
                else if (te >= refEnd) u += jumps;
                if (te >= refEnd && u > Theta + Tol) return $"missed a jump crossing at {te:R}: u = {u:R}";
            }
        }
        return si == spikes.Length ? null : $"engine spike at {spikes[si]:R} after the run";
    }

    /// <summary>Closed-form state at t from the state at t0 (refractory until refEnd: u held at u_r, g decays).</summary>
    private static void State(Case c, double t0, double u0, double ge0, double gi0, double refEnd, double t, out double u, out double ge, out double gi)
    {
        double s = Math.Max(t0, refEnd);
        if (t <= s)
        {
            u = t0 < refEnd ? Ur : u0;
            ge = ge0 * Math.Exp(-(t - t0) / c.TauE);
            gi = gi0 * Math.Exp(-(t - t0) / c.TauI);
            return;
        }
        double us = t0 < refEnd ? Ur : u0;
        double ges = ge0 * Math.Exp(-(s - t0) / c.TauE), gis = gi0 * Math.Exp(-(s - t0) / c.TauI);
        double h = t - s;
        if (c.Exp)
        {
            u = c.Drive + (us - c.Drive) * Math.Exp(-h / c.TauM) + ges * Kernel(h, c.TauM, c.TauE) + gis * Kernel(h, c.TauM, c.TauI);
            ge = ges * Math.Exp(-h / c.TauE);
            gi = gis * Math.Exp(-h / c.TauI);
        }
        else
        {
            double uInf = c.Drive * c.TauM;
            u = uInf + (us - uInf) * Math.Exp(-h / c.TauM);
            ge = gi = 0;
        }
    }
}
