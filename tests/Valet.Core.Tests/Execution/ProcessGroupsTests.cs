using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Valet.Core.Execution;
using Xunit;

namespace Valet.Core.Tests.Execution;

/// <summary>limits.md §3, "After a crash": the records of step process groups, and the kill at start.</summary>
public sealed class ProcessGroupsTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "valet-groups-" + Guid.NewGuid().ToString("N"));
    readonly ProcessGroups groups;
    readonly List<Process> started = [];

    public ProcessGroupsTests() => groups = new ProcessGroups(new ValetHome(dir), NullLogger<ProcessGroups>.Instance);

    public void Dispose()
    {
        foreach (var p in started)
        {
            if (!p.HasExited)
                p.Kill(entireProcessTree: true);
            p.Dispose();
        }
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
    }

    /// <summary>A session of its own, as a step's: `setsid` makes the sleep's pid its group id.</summary>
    Process Session(string seconds)
    {
        var p = Process.Start(new ProcessStartInfo("/usr/bin/setsid", ["sleep", seconds]))!;
        started.Add(p);
        return p;
    }

    static async Task<bool> EndsWithinAsync(Process p, TimeSpan timeout)
    {
        try
        {
            await p.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_recorded_group_still_running_is_killed_at_start_and_its_record_cleared()
    {
        var step = Session("3021");
        var record = groups.Record(step.Id);
        Assert.Equal($"{step.Id} {ProcessGroups.StartTime(step.Id)} {File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim()}\n", File.ReadAllText(record));

        Assert.Equal(1, groups.KillLeftovers());
        Assert.True(await EndsWithinAsync(step, TimeSpan.FromSeconds(5)));
        Assert.Empty(Directory.GetFiles(groups.Directory));
    }

    [Theory]
    [InlineData("another start time")]
    [InlineData("another boot")]
    [InlineData("cut short")]
    public async Task A_record_that_no_longer_matches_kills_nothing_and_is_cleared(string mismatch)
    {
        var other = Session("3022");
        var record = groups.Record(other.Id);
        var fields = File.ReadAllText(record).Trim().Split(' ');
        File.WriteAllText(record, mismatch switch
        {
            "another start time" => $"{fields[0]} {ulong.Parse(fields[1]) - 1} {fields[2]}\n",
            "another boot" => $"{fields[0]} {fields[1]} 00000000-0000-0000-0000-000000000000\n",
            _ => $"{fields[0]} {fields[1]}",
        });

        Assert.Equal(0, groups.KillLeftovers());
        Assert.False(await EndsWithinAsync(other, TimeSpan.FromMilliseconds(300)));
        Assert.Empty(Directory.GetFiles(groups.Directory));
    }

    [Fact]
    public async Task A_group_whose_leader_is_gone_is_killed_through_the_members_left()
    {
        // The leader ends at once; its background child stays in the group, as after a step's shell exits.
        var leader = Process.Start(new ProcessStartInfo("/usr/bin/setsid", ["/bin/sh", "-c", "sleep 3023 & echo $!; read -r _"])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        })!;
        started.Add(leader);
        var child = int.Parse(leader.StandardOutput.ReadLine()!);
        started.Add(Process.GetProcessById(child));
        var record = groups.Record(leader.Id);
        leader.StandardInput.Close();
        await leader.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Null(ProcessGroups.StartTime(leader.Id));
        Assert.NotNull(ProcessGroups.StartTime(child));

        Assert.Equal(1, groups.KillLeftovers());
        var deadline = Stopwatch.StartNew();
        while (ProcessGroups.StartTime(child) is not null && deadline.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Null(ProcessGroups.StartTime(child));
        Assert.False(File.Exists(record));
    }
}
