using System.Runtime.InteropServices;

namespace Valet.Core.Execution;

/// <summary>Signals to a whole process group: a step's shell and everything it started.</summary>
static class ProcessGroupSignals
{
    public const int Term = 15;
    public const int Kill = 9;

    public static void Send(int group, int signal) => _ = kill(-group, signal);

    /// <summary>Signal 0 checks only that the group still has a process.</summary>
    public static bool Exists(int group) => kill(-group, 0) == 0;

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // a plain int call: no marshalling for the generator to improve
    static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
