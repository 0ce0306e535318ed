using System.Net;
using System.Text;
using Valet.Core.Tests;
using Valet.Core.Tests.Scm;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Execution;

/// <summary>Two servers on one PostgreSQL database: each serves the consoles and polling logs of the other's work.</summary>
public sealed class SharedConsoleTests
{
    const string Config = """
        server:
          executors: 1
          quietPeriod: 0
        jobs:
          - name: ticker
            steps:
              - sh: |
                  for i in 1 2 3 4 5 6 7 8; do echo "tick $i ✓"; sleep 0.5; done
        """;

    sealed record Read(string Text, bool More);

    [Fact]
    public async Task A_build_running_on_one_server_is_read_live_from_the_other_and_whole_once_it_ends()
    {
        await using var db = await TestPostgres.CreateDatabaseAsync();
        await using var a = await ValetProcess.StartAsync(Config, database: db);
        await using var b = await SecondServerAsync(a, Config);

        using var trigger = await a.Admin().PostAsync("job/ticker/build", null);
        Assert.Equal(HttpStatusCode.Created, trigger.StatusCode);
        // Either server may claim the build; the reader is the one that did not.
        string workspace = "";
        await ValetProcess.WaitUntilAsync(async () => (workspace = Line(await a.ConsoleAsync("job/ticker/", 1), "Building in workspace ")) != "",
            TimeSpan.FromSeconds(30), "the build to start");
        var (runner, reader) = workspace.StartsWith(a.Home + "/", StringComparison.Ordinal) ? (a, b) : (b, a);
        Assert.StartsWith(runner.Home + "/", workspace, StringComparison.Ordinal);

        // Follow the console from the other server as a Jenkins client does: from the offset the last read returned.
        var reads = new List<Read>();
        var text = new StringBuilder();
        long start = 0;
        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var response = await reader.Admin().GetAsync($"job/ticker/1/logText/progressiveText?start={start}");
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsByteArrayAsync();
            var size = long.Parse(response.Headers.GetValues("X-Text-Size").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(start + body.Length, size);
            start = size;
            text.Append(Encoding.UTF8.GetString(body));
            var more = response.Headers.Contains("X-More-Data");
            reads.Add(new Read(text.ToString(), more));
            return !more;
        }, TimeSpan.FromSeconds(60), "the build to end");

        // Seen while running: some ticks before the last one was printed.
        Assert.Contains(reads, r => r.More && r.Text.Contains("tick 2 ✓\n", StringComparison.Ordinal) && !r.Text.Contains("tick 8", StringComparison.Ordinal));
        var whole = text.ToString();
        Assert.Contains("tick 8 ✓\n", whole, StringComparison.Ordinal);
        Assert.EndsWith("Finished: SUCCESS\n", whole, StringComparison.Ordinal);
        Assert.Equal(whole, await reader.ConsoleAsync("job/ticker/", 1));
        Assert.Equal(whole, await runner.ConsoleAsync("job/ticker/", 1));
    }

    [Fact]
    public async Task A_polling_run_on_one_server_shows_in_the_polling_log_of_the_other()
    {
        using var repo = GitRepo.Create();
        var head = repo.Commit("hello.txt", "hello\n", "First commit");
        var config = $"""
            server: {"{"} quietPeriod: 0, executors: 1 {"}"}
            jobs:
              - name: app
                scm:
                  git: {"{"} url: "{repo.Url}", branch: main {"}"}
                triggers:
                  pollScm: ""
                steps:
                  - sh: cat hello.txt
            """;
        await using var db = await TestPostgres.CreateDatabaseAsync();
        await using var a = await ValetProcess.StartAsync(config, database: db);
        await using var b = await SecondServerAsync(a, config);

        // The server that takes the request runs the polling.
        using var poll = await a.Admin().PostAsync("job/app/polling", null);
        Assert.Equal(HttpStatusCode.Found, poll.StatusCode);

        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var log = await b.Admin().GetAsync("job/app/scmPollLog");
            return (await log.Content.ReadAsStringAsync()).Contains($"No build recorded yet; the head is {head}", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "the polling log on the other server");
        await a.WaitForBuildAsync("job/app/", 1);
    }

    /// <summary>Another server of <paramref name="first"/>'s installation: its database and secrets, a home of its own.</summary>
    static Task<ValetProcess> SecondServerAsync(ValetProcess first, string config) =>
        ValetProcess.StartAsync(config, env: new() { ["VALET_SECRETS"] = Path.Combine(first.Home, "secrets") }, database: first.Database);

    static string Line(string console, string prefix) =>
        console.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..] ?? "";
}
