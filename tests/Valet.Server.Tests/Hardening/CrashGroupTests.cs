using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §3, "After a crash": the process groups of a killed server's steps are killed by the next.</summary>
public sealed class CrashGroupTests
{
    const string Config = """
        server:
          quietPeriod: 0
          executors: 1
        jobs:
          - name: hang
            steps:
              - sh: |
                  sleep 3011 &
                  echo $! > bg.pid
                  echo $$ > shell.pid
                  sleep 3012
        """;

    /// <summary>Alive: in /proc and not a zombie (an orphan's zombie waits for whoever adopts it to reap it).</summary>
    static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task After_kill_9_the_next_server_kills_the_steps_left_running_and_the_build_is_aborted()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using (var queued = await valet.Admin().PostAsync("job/hang/build", null))
            Assert.Equal(HttpStatusCode.Created, queued.StatusCode);
        var workspace = Path.Combine(valet.Home, "workspace", "hang");
        var records = Path.Combine(valet.Home, "run", "groups");
        int shell = 0, child = 0;
        await ValetProcess.WaitUntilAsync(async () =>
        {
            await Task.CompletedTask;
            return int.TryParse(ReadOrEmpty(Path.Combine(workspace, "shell.pid")), out shell) && int.TryParse(ReadOrEmpty(Path.Combine(workspace, "bg.pid")), out child);
        }, TimeSpan.FromSeconds(30), "the step to write its pids");
        // The group was recorded before the step ran: its id is the step's shell.
        Assert.Equal([shell.ToString()], Directory.GetFiles(records).Select(Path.GetFileName));

        await valet.KillAsync();
        Assert.True(Alive(shell) && Alive(child), "the step should outlive the killed server");

        await valet.RestartAsync();
        await ValetProcess.WaitUntilAsync(() => Task.FromResult(!Alive(shell) && !Alive(child)), TimeSpan.FromSeconds(5), "the left-over group to be killed");
        Assert.Empty(Directory.GetFiles(records));
        Assert.Contains($"Killed process group {shell}", valet.Output);

        var aborted = await valet.WaitForBuildAsync("job/hang/", 1);
        Assert.Equal("ABORTED", aborted["result"]!.GetValue<string>());
    }

    static string ReadOrEmpty(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return ""; }
    }
}
