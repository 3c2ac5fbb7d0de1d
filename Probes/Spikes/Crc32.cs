namespace Sim.Probes.Spikes;

/// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as used by zlib, PNG and the spike stream.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    /// <summary>Continues a running CRC (start with <see cref="Initial"/>, finish with <see cref="Finish"/>).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public const uint Initial = 0xFFFFFFFFu;
    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Initial, data));
}
