using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Valet.Core.Execution;

/// <summary>
/// The process groups of running steps, recorded under the home (limits.md §3, "After a crash"): a
/// file per group in <c>run/groups/</c> naming the group id, its leader's start time (field 22 of
/// <c>/proc/&lt;pid&gt;/stat</c>, clock ticks since boot) and the machine's boot id. A server killed
/// with SIGKILL leaves its steps running in their own sessions; the next server on the home kills
/// every recorded group that is still the one recorded before anything else runs.
/// </summary>
public sealed partial class ProcessGroups(ValetHome home, ILogger<ProcessGroups> logger)
{
    public string Directory { get; } = Path.Combine(home.Root, "run", "groups");

    static readonly Lazy<string> BootId = new(() => File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim());

    /// <summary>
    /// Records the group led by <paramref name="leader"/>, which must not have run anything of the step
    /// yet. Not fsynced: only a server on the same boot acts on a record, and it reads the page cache;
    /// a record lost with a power cut names processes that died with the machine.
    /// </summary>
    /// <returns>The record, for <see cref="Remove"/>.</returns>
    public string Record(int leader)
    {
        var start = StartTime(leader) ?? throw new InvalidOperationException($"process {leader} ended before its group was recorded");
        System.IO.Directory.CreateDirectory(Directory);
        var file = Path.Combine(Directory, leader.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(file, $"{leader} {start} {BootId.Value}\n");
        return file;
    }

    /// <summary>Forgets a group once it has ended (or was sent SIGKILL).</summary>
    public static void Remove(string record) => File.Delete(record);

    /// <summary>
    /// Kills (SIGKILL to the group) every recorded group still running, and clears the records: a
    /// group matches when it is of this boot and either its leader is alive with the recorded start
    /// time, or its leader is gone and every process left in the group started no earlier than the
    /// leader did (a pid is never handed out while a group of that id has members, so the group is
    /// the recorded one unless it emptied and its id was taken by a new session since).
    /// </summary>
    /// <returns>How many groups were killed.</returns>
    public int KillLeftovers()
    {
        if (!System.IO.Directory.Exists(Directory))
            return 0;
        var killed = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
        {
            if (Read(file) is { } recorded && recorded.Boot == BootId.Value && Matches(recorded.Group, recorded.Start))
            {
                ProcessGroupSignals.Send(recorded.Group, ProcessGroupSignals.Kill);
                Log.KilledLeftover(logger, recorded.Group);
                killed++;
            }
            File.Delete(file);
        }
        return killed;
    }

    static (int Group, ulong Start, string Boot)? Read(string file)
    {
        // A record cut short by a crash is of a step that never ran: its wrapper waits for a go-ahead.
        var parts = File.ReadAllText(file).Split(' ', StringSplitOptions.TrimEntries);
        return parts.Length == 3 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var group) && group > 1
            && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start) && parts[2].Length > 0
            ? (group, start, parts[2])
            : null;
    }

    static bool Matches(int group, ulong start)
    {
        if (Stat(group) is { } leader)
            return leader.Start == start && leader.Group == group;
        var members = false;
        foreach (var dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || Stat(pid) is not { } p || p.Group != group)
                continue;
            if (p.Start < start)
                return false;
            members = true;
        }
        return members;
    }

    /// <summary>The start time of a live process, from <c>/proc/&lt;pid&gt;/stat</c>.</summary>
    public static ulong? StartTime(int pid) => Stat(pid)?.Start;

    /// <summary>A live process's group (field 5) and start time (field 22); null when it is gone or a zombie.</summary>
    static (int Group, ulong Start)? Stat(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 20 || fields[0] == "Z"
            || !int.TryParse(fields[5 - 3], NumberStyles.None, CultureInfo.InvariantCulture, out var group)
            || !ulong.TryParse(fields[22 - 3], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return null;
        return (group, start);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Killed process group {Group}: a step left running when the server last stopped")]
        public static partial void KilledLeftover(ILogger logger, int group);
    }
}
