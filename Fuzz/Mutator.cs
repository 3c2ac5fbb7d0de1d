using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;
using Sim.EventCore.Numerics;

namespace Sim.Fuzz;

/// <summary>
/// Deterministic mutations of an input (a pure function of seed and execution number, from the counter RNG): byte
/// flips, insertions, deletions, duplicated and spliced chunks, interesting integers written over 1, 4 or 8 bytes, and
/// for text inputs numbers replaced by edge values (0, −1, NaN, 1e308, 2^31 …) and lines dropped, duplicated or swapped.
/// Binary inputs may be re-sealed (checksums recomputed) so that mutations reach the checks behind the checksum.
/// </summary>
public sealed partial class Mutator(ulong seed)
{
    private static readonly string[] EdgeNumbers =
        ["0", "-1", "1", "-0", "0.0001", "1e308", "-1e308", "1e-320", "NaN", ".nan", ".inf", "-.inf", "2147483647", "2147483648",
         "-2147483649", "4294967296", "9223372036854775807", "1e12", "100000000", "3.5", "", "null", "[]", "{}", "x"];
    private static readonly long[] EdgeIntegers = [0, -1, 1, 2, 255, 256, 65535, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, long.MinValue, 1 << 20, -1000];

    [GeneratedRegex(@"-?\d+(\.\d+)?(e-?\d+)?")]
    private static partial Regex NumberPattern();

    private ulong _key;
    private ulong _draw;

    private int Next(int n) => (int)(CounterRng.Word(_key, _draw++) % (ulong)Math.Max(1, n));

    /// <summary>Mutation number <paramref name="execution"/> of <paramref name="input"/> (spliced with <paramref name="other"/>).</summary>
    public byte[] Mutate(byte[] input, byte[] other, long execution, bool text, bool reseal)
    {
        _key = CounterRng.Key(seed, 0xF022, (ulong)execution, 0);
        _draw = 0;
        int rounds = 1 + Next(4);
        byte[] data = input;
        for (int r = 0; r < rounds; r++)
            data = text && Next(3) > 0 ? MutateText(data, other) : MutateBytes(data, other);
        return reseal && Next(4) > 0 ? Reseal(data) : data;
    }

    private byte[] MutateBytes(byte[] data, byte[] other)
    {
        var list = new List<byte>(data);
        int n = list.Count;
        switch (Next(7))
        {
            case 0 when n > 0: { int i = Next(n); list[i] ^= (byte)(1 << Next(8)); break; }
            case 1: list.Insert(Next(n + 1), (byte)Next(256)); break;
            case 2 when n > 1: { int i = Next(n), len = 1 + Next(Math.Min(64, n - i)); list.RemoveRange(i, len); break; }
            case 3 when n > 1: { int i = Next(n), len = 1 + Next(Math.Min(64, n - i)); list.InsertRange(Next(n), list.GetRange(i, len)); break; }
            case 4 when other.Length > 0 && n > 0:
            {
                int cut = Next(n), from = Next(other.Length);
                list.RemoveRange(cut, n - cut);
                list.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 5 when n >= 8:
            {
                int width = new[] { 1, 4, 8 }[Next(3)], i = Next(n - width + 1);
                long v = EdgeIntegers[Next(EdgeIntegers.Length)];
                var bytes = BitConverter.GetBytes(v);
                for (int k = 0; k < width; k++) list[i + k] = bytes[k];
                break;
            }
            default: if (n > 0) list[Next(n)] = (byte)Next(256); break;
        }
        return [.. list];
    }

    private byte[] MutateText(byte[] data, byte[] other)
    {
        string s = Encoding.UTF8.GetString(data);
        switch (Next(5))
        {
            case 0 or 1:
            {
                var numbers = NumberPattern().Matches(s);
                if (numbers.Count == 0) break;
                var m = numbers[Next(numbers.Count)];
                s = s[..m.Index] + EdgeNumbers[Next(EdgeNumbers.Length)] + s[(m.Index + m.Length)..];
                break;
            }
            case 2:
            {
                var lines = s.Split('\n').ToList();
                int i = Next(lines.Count);
                switch (Next(3))
                {
                    case 0: lines.RemoveAt(i); break;
                    case 1: lines.Insert(Next(lines.Count + 1), lines[i]); break;
                    default: { int j = Next(lines.Count); (lines[i], lines[j]) = (lines[j], lines[i]); break; }
                }
                s = string.Join('\n', lines);
                break;
            }
            case 3:
            {
                var mine = s.Split('\n');
                var theirs = Encoding.UTF8.GetString(other).Split('\n');
                s = string.Join('\n', mine.Take(Next(mine.Length + 1)).Concat(theirs.Skip(Next(theirs.Length + 1))));
                break;
            }
            default:
            {
                string[] tokens = [":", "-", "[", "]", "{", "}", ",", "&a", "*a", "<<: *a", "\t", "'", "\"", "#", "~", "!!binary", "? ", "|"];
                int at = Next(s.Length + 1);
                s = s[..at] + tokens[Next(tokens.Length)] + s[at..];
                break;
            }
        }
        return Encoding.UTF8.GetBytes(s);
    }

    /// <summary>Recomputes a checkpoint's XxHash3 trailer (format 3) so the mutation is judged by the checks behind it.</summary>
    public static byte[] Reseal(byte[] data)
    {
        if (data.Length < 16 || !Encoding.ASCII.GetString(data, 1, Math.Min(8, data.Length - 1)).StartsWith("SIMCKPT3", StringComparison.Ordinal)) return data;
        var copy = (byte[])data.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(copy.Length - 8), XxHash3.HashToUInt64(copy.AsSpan(0, copy.Length - 8)));
        return copy;
    }
}
