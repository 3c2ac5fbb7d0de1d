using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Sim.GpuBridge;

/// <summary>
/// One place that brings libtorch up: loads the natives once, answers whether CUDA is usable, turns a
/// device option ("cpu" | "cuda") into a <see cref="torch.Device"/> with a clear error when CUDA is
/// requested but absent, and enforces deterministic algorithms (docs/architecture.md, the dense engine).
/// </summary>
/// <remarks>
/// <para><b>Deterministic algorithms.</b> <c>torch.use_deterministic_algorithms</c> is declared but marked
/// obsolete-as-error (CS0619) in TorchSharp 0.107, so we call libtorch directly. The switch is the member
/// function <c>at::Context::setDeterministicAlgorithms(bool b, bool warn_only)</c> of the global context
/// returned by <c>at::globalContext()</c>; all three symbols are exported from <c>libtorch_cpu.so</c>
/// (found with <c>nm -D --defined-only libtorch_cpu.so</c> in the libtorch-cpu-linux-x64 2.10.0 package):</para>
/// <list type="bullet">
/// <item><c>_ZN2at13globalContextEv</c> = <c>at::globalContext()</c>, returns <c>at::Context&amp;</c>;</item>
/// <item><c>_ZN2at7Context26setDeterministicAlgorithmsEbb</c> = <c>at::Context::setDeterministicAlgorithms(bool, bool)</c>;</item>
/// <item><c>_ZNK2at7Context23deterministicAlgorithmsEv</c> = <c>at::Context::deterministicAlgorithms() const</c>.</item>
/// </list>
/// <para>On x86-64 System V (and AArch64) a non-virtual member function takes <c>this</c> as its first
/// integer argument and a C++ <c>bool</c> is one byte, so these are called as plain C functions
/// <c>void(void*, byte, byte)</c> and <c>byte(void*)</c> through unmanaged function pointers. The library
/// handle is the one TorchSharp already loaded (dlopen of the same file returns the same handle), so the
/// flag lands in the very context the tensor operations consult.</para>
/// <para>With CUDA, deterministic cuBLAS additionally needs <c>CUBLAS_WORKSPACE_CONFIG=:4096:8</c> in the
/// native environment before CUDA initialises; <see cref="Device(string)"/> sets it (via libc
/// <c>setenv</c>, because .NET's <c>Environment.SetEnvironmentVariable</c> does not reach native code on
/// Unix) when it is not set already.</para>
/// </remarks>
public static unsafe class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool initialised;
    private static bool cudaAvailable;
    private static nint context;
    private static delegate* unmanaged<nint, byte, byte, void> setDeterministic;
    private static delegate* unmanaged<nint, byte> getDeterministic;

    /// <summary>The option value for the CPU device.</summary>
    public const string Cpu = "cpu";
    /// <summary>The option value for the CUDA device.</summary>
    public const string Cuda = "cuda";

    /// <summary>Time the first call of <see cref="Initialize"/> spent loading libtorch and its first tensor operation.</summary>
    public static TimeSpan InitializationTime { get; private set; }

    /// <summary>
    /// Loads libtorch (once; later calls return at once), records whether CUDA is available and switches
    /// on deterministic algorithms. Thread-safe.
    /// </summary>
    public static void Initialize()
    {
        if (Volatile.Read(ref initialised)) return;
        lock (Gate)
        {
            if (initialised) return;
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            torch.InitializeDeviceType(DeviceType.CPU);
            cudaAvailable = torch.cuda.is_available();
            BindContext();
            setDeterministic(context, 1, 0);   // deterministic algorithms on, errors (not warnings) on nondeterministic kernels
            using (torch.NewDisposeScope())
            {
                _ = torch.zeros(1, dtype: torch.int64).sum().item<long>();
            }
            InitializationTime = System.Diagnostics.Stopwatch.GetElapsedTime(start);
            Volatile.Write(ref initialised, true);
        }
    }

    /// <summary>Whether libtorch with CUDA support is loaded and a CUDA device is present.</summary>
    public static bool IsCudaAvailable
    {
        get { Initialize(); return cudaAvailable; }
    }

    /// <summary>
    /// The device named by an option value: <c>"cpu"</c> or <c>"cuda"</c> (also <c>"cuda:N"</c>), case-insensitive.
    /// </summary>
    /// <exception cref="ArgumentException">The option is neither cpu nor cuda.</exception>
    /// <exception cref="NotSupportedException">CUDA was requested but this build or machine cannot provide it.</exception>
    public static torch.Device Device(string option)
    {
        ArgumentNullException.ThrowIfNull(option);
        Initialize();
        string o = option.Trim().ToLowerInvariant();
        if (o == Cpu) return torch.CPU;
        if (o == Cuda || o.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cudaAvailable)
                throw new NotSupportedException(
                    $"Device '{option}' was requested, but CUDA is not available: this build carries the CPU libtorch only " +
                    "(NuGet package libtorch-cpu-linux-x64). To run on a GPU, build with the CUDA natives instead, i.e. the NuGet package " +
                    "TorchSharp-cuda-linux (which brings libtorch-cuda-*) from a feed that has it, on a machine with an NVIDIA driver; " +
                    "or choose device 'cpu'.");
            EnsureCublasWorkspaceConfig();
            return new torch.Device(o);
        }
        throw new ArgumentException($"Unknown device '{option}': expected 'cpu' or 'cuda'.", nameof(option));
    }

    /// <summary>Switches libtorch's deterministic-algorithms mode (errors, not warnings, on nondeterministic kernels).</summary>
    public static void SetDeterministicAlgorithms(bool enabled)
    {
        Initialize();
        setDeterministic(context, enabled ? (byte)1 : (byte)0, 0);
    }

    /// <summary>Whether libtorch's deterministic-algorithms mode is on (reads <c>at::Context::deterministicAlgorithms()</c>).</summary>
    public static bool AreDeterministicAlgorithmsEnabled()
    {
        Initialize();
        return getDeterministic(context) != 0;
    }

    private static void BindContext()
    {
        nint lib = LoadTorchCpu();
        var globalContext = (delegate* unmanaged<nint>)NativeLibrary.GetExport(lib, "_ZN2at13globalContextEv");
        setDeterministic = (delegate* unmanaged<nint, byte, byte, void>)NativeLibrary.GetExport(lib, "_ZN2at7Context26setDeterministicAlgorithmsEbb");
        getDeterministic = (delegate* unmanaged<nint, byte>)NativeLibrary.GetExport(lib, "_ZNK2at7Context23deterministicAlgorithmsEv");
        context = globalContext();
        if (context == 0) throw new InvalidOperationException("at::globalContext() returned null.");
    }

    private static nint LoadTorchCpu()
    {
        // TorchSharp has loaded libtorch_cpu.so already; resolve the same file the way it did.
        Assembly asm = typeof(torch).Assembly;
        if (NativeLibrary.TryLoad("libtorch_cpu.so", asm, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out nint h)) return h;
        string? dir = Path.GetDirectoryName(asm.Location);
        if (dir != null)
        {
            foreach (string candidate in new[] { Path.Combine(dir, "libtorch_cpu.so"), Path.Combine(dir, "runtimes", "linux-x64", "native", "libtorch_cpu.so") })
                if (NativeLibrary.TryLoad(candidate, out h)) return h;
        }
        throw new DllNotFoundException("libtorch_cpu.so was not found next to TorchSharp.dll; is libtorch-cpu-linux-x64 referenced with a linux-x64 RuntimeIdentifier?");
    }

    private static void EnsureCublasWorkspaceConfig()
    {
        if (!string.IsNullOrEmpty(GetEnv("CUBLAS_WORKSPACE_CONFIG"))) return;
        if (OperatingSystem.IsWindows()) Environment.SetEnvironmentVariable("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
        else _ = SetEnv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern nint GetEnvPtr([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    private static string? GetEnv(string name)
    {
        if (OperatingSystem.IsWindows()) return Environment.GetEnvironmentVariable(name);
        nint p = GetEnvPtr(name);
        return p == 0 ? null : Marshal.PtrToStringUTF8(p);
    }
}
