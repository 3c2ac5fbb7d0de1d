using System.Runtime.InteropServices;

namespace Sim.Experiments.Box2D;

/// <summary>
/// Whether the Box2D shim (native/box2d_shim/, built into <c>libsimbox2d.so</c> next to the assemblies when Debian's
/// libbox2d-dev and g++ are present at build time) can be loaded, and why not. Everything that steps a Box2D world asks
/// <see cref="EnsureAvailable"/> first, so a missing library is one clear message instead of a DllNotFoundException.
/// </summary>
public static class Box2DLibrary
{
    /// <summary>What to do when the shim is missing.</summary>
    public const string InstallHint = "install libbox2d-dev and g++ (apt-get install libbox2d-dev g++) and rebuild";

    private static readonly Lazy<(int Version, string? Reason)> Probe = new(() => Diagnose(() => Box2DNative.sb2_version()));

    /// <summary>
    /// The probe behind <see cref="Available"/>: calls <paramref name="version"/> (the shim's <c>sb2_version</c>) and
    /// returns its version and null, or the reason the shim cannot be used (missing library or entry point, wrong
    /// architecture, a Box2D other than 2.4.x), with <see cref="InstallHint"/>.
    /// </summary>
    public static (int Version, string? Reason) Diagnose(Func<int> version)
    {
        ArgumentNullException.ThrowIfNull(version);
        try
        {
            int v = version();
            return v / 100 == 204 ? (v, null) : (v, $"Box2D shim not available: it was built against Box2D {v / 10000}.{v / 100 % 100}.{v % 100}, not 2.4.x; {InstallHint}");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return (0, $"Box2D shim not available: {InstallHint} ({e.GetType().Name}: {FirstLine(e.Message)})");
        }
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>True when the shim loads (and with it libbox2d).</summary>
    public static bool Available => Probe.Value.Reason is null;

    /// <summary>Why the shim cannot be used ("Box2D shim not available: install …"), or null when it can.</summary>
    public static string? UnavailableReason => Probe.Value.Reason;

    /// <summary>The Box2D version the shim was built with (20401 for 2.4.1); 0 when it does not load.</summary>
    public static int Version => Probe.Value.Version;

    /// <summary>Throws <see cref="InvalidOperationException"/> with <see cref="UnavailableReason"/> when the shim cannot be used.</summary>
    public static void EnsureAvailable()
    {
        if (UnavailableReason is { } reason) throw new InvalidOperationException(reason);
    }
}

/// <summary>The flat C ABI of native/box2d_shim/box2d_shim.cpp (one function per line there; indices are creation order).</summary>
internal static partial class Box2DNative
{
    private const string Lib = "simbox2d";

    [LibraryImport(Lib)] internal static partial int sb2_version();
    [LibraryImport(Lib)] internal static partial nint sb2_world_create(float gx, float gy);
    [LibraryImport(Lib)] internal static partial void sb2_world_destroy(nint w);
    [LibraryImport(Lib)] internal static partial void sb2_world_set_ground_bits(nint w, int bits);
    [LibraryImport(Lib)] internal static partial void sb2_world_step(nint w, float dt, int velocityIterations, int positionIterations);
    [LibraryImport(Lib)] internal static partial int sb2_body_count(nint w);
    [LibraryImport(Lib)] internal static partial int sb2_static_edge(nint w, float x1, float y1, float x2, float y2, float friction, int category, int mask);
    [LibraryImport(Lib)] internal static unsafe partial int sb2_static_polygon(nint w, float* xy, int n, float friction, int category, int mask);
    [LibraryImport(Lib)] internal static unsafe partial int sb2_dynamic_polygon(nint w, float x, float y, float angle, float* xy, int n, float density,
        float friction, float restitution, int category, int mask);
    [LibraryImport(Lib)] internal static partial int sb2_revolute_joint(nint w, int a, int b, float ax, float ay, float bx, float by, int enableMotor,
        float maxMotorTorque, float motorSpeed, int enableLimit, float lowerAngle, float upperAngle);
    [LibraryImport(Lib)] internal static partial int sb2_joint_set_motor(nint w, int j, float speed, float maxTorque);
    [LibraryImport(Lib)] internal static unsafe partial int sb2_joint_state(nint w, int j, float* out2);
    [LibraryImport(Lib)] internal static unsafe partial int sb2_body_state(nint w, int i, float* out6);
    [LibraryImport(Lib)] internal static partial int sb2_body_apply_force_to_center(nint w, int i, float fx, float fy);
    [LibraryImport(Lib)] internal static partial int sb2_body_contact_flags(nint w, int i);
    [LibraryImport(Lib)] internal static partial int sb2_body_clear_touched(nint w, int i);
    [LibraryImport(Lib)] internal static partial float sb2_ray_cast_closest(nint w, float x1, float y1, float x2, float y2, int mask);
}

/// <summary>The state of one rigid body (Box2D's single precision, widened).</summary>
public readonly record struct BodyState(double X, double Y, double Angle, double Vx, double Vy, double AngularVelocity);

/// <summary>
/// One Box2D world (gravity, static and dynamic polygon bodies, revolute joints with limits and motors, ray casts, ground
/// contact flags) owned by one object: not thread-safe, but worlds share nothing, so different worlds may step on
/// different threads at once. Lengths in metres, angles in radians, Box2D's single precision (arguments are rounded to
/// float). Contacts are counted against fixtures whose category bits meet <see cref="GroundBits"/>: per body a
/// <em>contact</em> flag (set by a contact's begin, cleared by a contact's end) and a <em>touched</em> latch (set by a
/// begin, cleared by <see cref="ClearTouched"/>).
/// </summary>
public sealed unsafe class Box2DWorld : IDisposable
{
    private nint _w;

    /// <summary>A world with gravity (<paramref name="gx"/>, <paramref name="gy"/>) m/s²; throws when the shim is missing.</summary>
    public Box2DWorld(double gx, double gy, int groundBits = 0x0001)
    {
        Box2DLibrary.EnsureAvailable();
        _w = Box2DNative.sb2_world_create((float)gx, (float)gy);
        if (_w == 0) throw new OutOfMemoryException("Box2D: the world could not be created");
        Box2DNative.sb2_world_set_ground_bits(_w, groundBits);
        GroundBits = groundBits;
    }

    /// <summary>The category bits that count as ground for the contact flags.</summary>
    public int GroundBits { get; }

    /// <summary>Bodies created so far.</summary>
    public int BodyCount => Box2DNative.sb2_body_count(Handle);

    private nint Handle => _w != 0 ? _w : throw new ObjectDisposedException(nameof(Box2DWorld));

    private static int Checked(int index, string what) => index >= 0 ? index : throw new ArgumentException($"Box2D: {what} was refused (a non-finite or out-of-range value)");

    /// <summary>A static body with one two-sided edge; returns its index.</summary>
    public int StaticEdge(double x1, double y1, double x2, double y2, double friction, int category, int mask = 0xFFFF) =>
        Checked(Box2DNative.sb2_static_edge(Handle, (float)x1, (float)y1, (float)x2, (float)y2, (float)friction, category, mask), "the edge");

    /// <summary>A static body with one convex polygon (world coordinates x0, y0, x1, y1 …; 3 to 8 vertices); returns its index.</summary>
    public int StaticPolygon(ReadOnlySpan<double> xy, double friction, int category, int mask = 0xFFFF)
    {
        Span<float> f = ToFloats(xy, stackalloc float[16]);
        fixed (float* p = f) return Checked(Box2DNative.sb2_static_polygon(Handle, p, f.Length / 2, (float)friction, category, mask), "the polygon");
    }

    /// <summary>A dynamic body at (x, y, angle) with one convex polygon (body coordinates; 3 to 8 vertices); returns its index.</summary>
    public int DynamicPolygon(double x, double y, double angle, ReadOnlySpan<double> xy, double density, double friction, double restitution, int category, int mask)
    {
        Span<float> f = ToFloats(xy, stackalloc float[16]);
        fixed (float* p = f)
            return Checked(Box2DNative.sb2_dynamic_polygon(Handle, (float)x, (float)y, (float)angle, p, f.Length / 2, (float)density, (float)friction,
                (float)restitution, category, mask), "the polygon");
    }

    /// <summary>A dynamic box of half-extents (hx, hy) centred on the body (Box2D's SetAsBox vertex order); returns its index.</summary>
    public int DynamicBox(double x, double y, double angle, double hx, double hy, double density, double friction, double restitution, int category, int mask) =>
        DynamicPolygon(x, y, angle, [-hx, -hy, hx, -hy, hx, hy, -hx, hy], density, friction, restitution, category, mask);

    private static Span<float> ToFloats(ReadOnlySpan<double> xy, Span<float> buffer)
    {
        if (xy.Length % 2 != 0 || xy.Length < 6 || xy.Length > 16) throw new ArgumentException("a polygon has 3 to 8 vertices (x, y pairs)", nameof(xy));
        var f = buffer[..xy.Length];
        for (int i = 0; i < xy.Length; i++) f[i] = (float)xy[i];
        return f;
    }

    /// <summary>A revolute joint (reference angle 0) between bodies a and b at local anchors; returns its index.</summary>
    public int RevoluteJoint(int a, int b, double ax, double ay, double bx, double by, bool enableMotor, double maxMotorTorque, double motorSpeed,
        bool enableLimit, double lowerAngle, double upperAngle) =>
        Checked(Box2DNative.sb2_revolute_joint(Handle, a, b, (float)ax, (float)ay, (float)bx, (float)by, enableMotor ? 1 : 0, (float)maxMotorTorque,
            (float)motorSpeed, enableLimit ? 1 : 0, (float)lowerAngle, (float)upperAngle), "the joint");

    /// <summary>Sets joint j's motor speed (rad/s) and largest torque (N·m).</summary>
    public void SetMotor(int j, double speed, double maxTorque) => Checked(Box2DNative.sb2_joint_set_motor(Handle, j, (float)speed, (float)maxTorque), $"joint {j}");

    /// <summary>Joint j's angle (body B − body A) and speed (rad/s).</summary>
    public (double Angle, double Speed) Joint(int j)
    {
        float* s = stackalloc float[2];
        Checked(Box2DNative.sb2_joint_state(Handle, j, s), $"joint {j}");
        return (s[0], s[1]);
    }

    /// <summary>Body i's position, angle and velocities.</summary>
    public BodyState Body(int i)
    {
        float* s = stackalloc float[6];
        Checked(Box2DNative.sb2_body_state(Handle, i, s), $"body {i}");
        return new BodyState(s[0], s[1], s[2], s[3], s[4], s[5]);
    }

    /// <summary>Applies a force (N) at body i's centre of mass and wakes it.</summary>
    public void ApplyForceToCenter(int i, double fx, double fy) => Checked(Box2DNative.sb2_body_apply_force_to_center(Handle, i, (float)fx, (float)fy), $"body {i}");

    /// <summary>True while body i is in a ground contact (set by a contact's begin, cleared by a contact's end).</summary>
    public bool InContact(int i) => (Checked(Box2DNative.sb2_body_contact_flags(Handle, i), $"body {i}") & 1) != 0;

    /// <summary>True once body i has begun a ground contact since the last <see cref="ClearTouched"/>.</summary>
    public bool Touched(int i) => (Checked(Box2DNative.sb2_body_contact_flags(Handle, i), $"body {i}") & 2) != 0;

    /// <summary>Clears body i's touched latch.</summary>
    public void ClearTouched(int i) => Checked(Box2DNative.sb2_body_clear_touched(Handle, i), $"body {i}");

    /// <summary>Advances the world by <paramref name="dt"/> seconds.</summary>
    public void Step(double dt, int velocityIterations, int positionIterations) => Box2DNative.sb2_world_step(Handle, (float)dt, velocityIterations, positionIterations);

    /// <summary>The fraction of the segment p1–p2 at its closest hit on a fixture whose category bits meet <paramref name="mask"/>; 1 when nothing is hit.</summary>
    public double RayCastClosest(double x1, double y1, double x2, double y2, int mask) =>
        Box2DNative.sb2_ray_cast_closest(Handle, (float)x1, (float)y1, (float)x2, (float)y2, mask);

    /// <summary>Frees the world.</summary>
    public void Dispose()
    {
        if (_w != 0) { Box2DNative.sb2_world_destroy(_w); _w = 0; }
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees a world that was not disposed.</summary>
    ~Box2DWorld() { if (_w != 0) Box2DNative.sb2_world_destroy(_w); }
}
