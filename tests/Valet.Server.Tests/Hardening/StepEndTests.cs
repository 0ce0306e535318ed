using System.Diagnostics;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §3: a step ends when its shell exits, and its process group goes with it.</summary>
public sealed class StepEndTests
{
    const string Config = """
        server:
          quietPeriod: 0
          executors: 1
        jobs:
          - name: bg
            steps:
              - sh: |
                  sleep 3007 &
                  echo left a child behind
        """;

    static bool AnyProcessRuns(string commandLine) =>
        Directory.EnumerateDirectories("/proc").Any(dir =>
        {
            try { return File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim() == commandLine; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });

    [Fact]
    public async Task A_background_child_neither_holds_the_build_nor_outlives_it()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var clock = Stopwatch.StartNew();
        using (await valet.Admin().PostAsync("job/bg/build", null)) { }
        var build = await valet.WaitForBuildAsync("job/bg/", 1, TimeSpan.FromSeconds(30));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        Assert.Contains("left a child behind", await valet.ConsoleAsync("job/bg/", 1));
        Assert.False(AnyProcessRuns("sleep 3007"), "the background child outlived its build");
    }
}
