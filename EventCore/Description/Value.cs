using System.Globalization;
using Sim.EventCore.Numerics;

namespace Sim.EventCore.Description;

/// <summary>
/// A quantity that is a constant, drawn per element from a distribution, or given per element.
/// Draws use the counter-based RNG keyed by (seed, stream, element index), so they do not depend on
/// the order in which elements are visited. Implicitly convertible from <see cref="double"/>.
/// </summary>
public abstract record Value
{
    /// <summary>Value for element <paramref name="index"/> drawn from stream key <paramref name="key"/>.</summary>
    public abstract double Draw(ulong key, long index);

    /// <summary>True when every element gets the same value.</summary>
    public virtual bool IsConstant => false;

    /// <summary>Largest absolute value this can produce, or +∞ when unbounded (e.g. a normal distribution).</summary>
    public abstract double MaxAbs { get; }

    /// <summary>Smallest value this can produce (−∞ when unbounded).</summary>
    public abstract double Min { get; }

    /// <summary>Largest value this can produce (+∞ when unbounded).</summary>
    public abstract double Max { get; }

    /// <summary>A constant.</summary>
    public static implicit operator Value(double v) => new Constant(v);

    /// <summary>Uniform on [low, high).</summary>
    public static Value Uniform(double low, double high) => new UniformValue(low, high);

    /// <summary>Normal with mean and standard deviation, optionally truncated (by redrawing) to [low, high].</summary>
    public static Value Normal(double mean, double sd, double low = double.NegativeInfinity, double high = double.PositiveInfinity)
        => new NormalValue(mean, sd, low, high);

    /// <summary>One value per element.</summary>
    public static Value PerElement(params double[] values) => new ArrayValue(values);

    /// <summary>Checks finiteness and the given bounds; returns an error message or null.</summary>
    public abstract string? Check(bool positive = false, bool nonNegative = false);

    /// <summary>A constant value.</summary>
    public sealed record Constant(double V) : Value
    {
        public override double Draw(ulong key, long index) => V;
        public override bool IsConstant => true;
        public override double MaxAbs => Math.Abs(V);
        public override double Min => V;
        public override double Max => V;
        public override string? Check(bool positive = false, bool nonNegative = false)
            => !double.IsFinite(V) ? $"must be finite, got {Fmt(V)}"
             : positive && V <= 0 ? $"must be > 0, got {Fmt(V)}"
             : nonNegative && V < 0 ? $"must be ≥ 0, got {Fmt(V)}"
             : null;
        public override string ToString() => Fmt(V);
    }

    /// <summary>Uniform on [Low, High).</summary>
    public sealed record UniformValue(double Low, double High) : Value
    {
        public override double Draw(ulong key, long index)
            => Low + (High - Low) * CounterRng.Uniform01(CounterRng.Word(key, (ulong)index));
        public override double MaxAbs => Math.Max(Math.Abs(Low), Math.Abs(High));
        public override double Min => Low;
        public override double Max => High;
        public override string? Check(bool positive = false, bool nonNegative = false)
            => !double.IsFinite(Low) || !double.IsFinite(High) ? "uniform bounds must be finite"
             : High < Low ? $"uniform needs low ≤ high, got [{Fmt(Low)}, {Fmt(High)})"
             : positive && Low <= 0 ? $"must be > 0, but uniform low is {Fmt(Low)}"
             : nonNegative && Low < 0 ? $"must be ≥ 0, but uniform low is {Fmt(Low)}"
             : null;
        public override string ToString() => $"uniform({Fmt(Low)}, {Fmt(High)})";
    }

    /// <summary>Normal(Mean, Sd), truncated to [Low, High] by redrawing (at most 64 tries, then clamped).</summary>
    public sealed record NormalValue(double Mean, double Sd, double Low, double High) : Value
    {
        public override double Draw(ulong key, long index)
        {
            for (ulong attempt = 0; attempt < 64; attempt++)
            {
                ulong c = ((ulong)index << 7) | (attempt << 1);
                double x = Mean + Sd * CounterRng.Normal(CounterRng.Word(key, c), CounterRng.Word(key, c | 1));
                if (x >= Low && x <= High) return x;
            }
            return Math.Clamp(Mean, Low, High);
        }
        public override double MaxAbs => Math.Max(Math.Abs(Low), Math.Abs(High));
        public override double Min => Low;
        public override double Max => High;
        public override string? Check(bool positive = false, bool nonNegative = false)
            => !double.IsFinite(Mean) || !double.IsFinite(Sd) ? "normal mean and sd must be finite"
             : Sd < 0 ? $"normal sd must be ≥ 0, got {Fmt(Sd)}"
             : double.IsNaN(Low) || double.IsNaN(High) || High < Low ? "normal truncation needs low ≤ high"
             : Mean < Low - 8 * Sd || Mean > High + 8 * Sd ? "normal truncation interval lies too far from the mean"
             : positive && Low <= 0 ? "must be > 0: truncate the normal with low > 0"
             : nonNegative && Low < 0 ? "must be ≥ 0: truncate the normal with low ≥ 0"
             : null;
        public override string ToString() => $"normal({Fmt(Mean)}, {Fmt(Sd)})";
    }

    /// <summary>Explicit per-element values.</summary>
    public sealed record ArrayValue(double[] Values) : Value
    {
        public override double Draw(ulong key, long index) => Values[index];
        public override double MaxAbs => Values.Length == 0 ? 0 : Values.Max(Math.Abs);
        public override double Min => Values.Length == 0 ? double.PositiveInfinity : Values.Min();
        public override double Max => Values.Length == 0 ? double.NegativeInfinity : Values.Max();
        public override string? Check(bool positive = false, bool nonNegative = false)
        {
            for (int i = 0; i < Values.Length; i++)
            {
                double v = Values[i];
                if (!double.IsFinite(v)) return $"element {i} must be finite, got {Fmt(v)}";
                if (positive && v <= 0) return $"element {i} must be > 0, got {Fmt(v)}";
                if (nonNegative && v < 0) return $"element {i} must be ≥ 0, got {Fmt(v)}";
            }
            return null;
        }
        public override string ToString() => $"[{Values.Length} values]";
    }

    internal static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
