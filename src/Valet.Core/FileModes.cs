using System.Runtime.InteropServices;

namespace Valet.Core;

/// <summary>
/// Owner-only files under the home whatever the umask (limits.md §4): the server runs with umask 077,
/// and build processes get the umask the server was started with back for their workspaces.
/// </summary>
public static class FileModes
{
    /// <summary>The umask the process had before <see cref="RestrictUmask"/>; 022 until it runs.</summary>
    public static int OriginalUmask { get; private set; } = 0b000_010_010;

    /// <summary>Sets umask 077 for the server's own files; call once, before the home is touched.</summary>
    public static void RestrictUmask()
    {
        var before = umask(0b000_111_111);
        // A second call would read back our own 077.
        if (before != 0b000_111_111)
            OriginalUmask = before;
    }

    /// <summary>The octal text for <c>umask</c> in a shell.</summary>
    public static string OriginalUmaskText => Convert.ToString(OriginalUmask, 8).PadLeft(4, '0');

    /// <summary>Makes an existing home owner-only: a home made by an older version may be world-readable.</summary>
    public static void RestrictDirectory(string path) =>
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    [DllImport("libc")]
#pragma warning disable SYSLIB1054 // a plain int call: no marshalling for the generator to improve
    static extern int umask(int mask);
#pragma warning restore SYSLIB1054
}
