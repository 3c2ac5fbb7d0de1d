namespace Sim.Cli;

/// <summary>Process exit codes of <c>sim</c>.</summary>
public static class ExitCodes
{
    /// <summary>Finished normally.</summary>
    public const int Ok = 0;
    /// <summary>An unexpected failure while running (outputs written so far are kept and marked incomplete).</summary>
    public const int Failure = 1;
    /// <summary>Bad command line or invalid network description (nothing was run).</summary>
    public const int Usage = 2;
    /// <summary>A run guard stopped the run (e.g. runaway rates); outputs are kept and say why.</summary>
    public const int GuardStopped = 3;
    /// <summary><c>sim compare</c>: the engines diverged.</summary>
    public const int Divergent = 4;
    /// <summary>Interrupted by Ctrl-C (SIGINT); outputs up to the interruption are kept.</summary>
    public const int Interrupted = 130;
    /// <summary>Stopped by SIGTERM (kill, Slurm, container runtimes); handled like Ctrl-C.</summary>
    public const int Terminated = 143;
    /// <summary>Stopped by SIGHUP (the terminal went away); handled like Ctrl-C.</summary>
    public const int HungUp = 129;
}
