using System.Diagnostics;
using System.Net;
using Valet.Core.Tests;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Execution;

/// <summary>Two servers on one PostgreSQL database: when one dies, the other ends its work.</summary>
public sealed class ServerFailoverTests
{
    static string Config(string pgidFile) => $$"""
        server:
          executors: 1
          quietPeriod: 0
        jobs:
          - name: serial
            parameters:
              - { type: string, name: P }
            steps:
              - sh: |
                  echo "run $P"
                  test "$P" = quick || echo $$ > {{pgidFile}}
                  test "$P" = quick || sleep 300
        """;

    static async Task<long> PostAsync(ValetProcess valet, string path)
    {
        using var response = await valet.Admin().PostAsync(path, null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return long.Parse(response.Headers.Location!.ToString().TrimEnd('/').Split('/')[^1]);
    }

    [Fact]
    public async Task When_a_server_is_killed_another_records_its_build_aborted_within_a_minute_and_builds_what_waited_behind_it()
    {
        await using var db = await TestPostgres.CreateDatabaseAsync();
        var shared = Path.Combine(Path.GetTempPath(), "valet-failover-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(shared);
        var pgidFile = Path.Combine(shared, "pgid");
        var env = new Dictionary<string, string> { ["VALET_SECRETS"] = Path.Combine(shared, "secrets") };
        try
        {
            await using var a = await ValetProcess.StartAsync(Config(pgidFile), env, database: db);
            await PostAsync(a, "job/serial/buildWithParameters?P=long");
            await ValetProcess.WaitUntilAsync(async () => (await a.ConsoleAsync("job/serial/", 1)).Contains("run long"), TimeSpan.FromSeconds(30), "the long build on A");
            await using var b = await ValetProcess.StartAsync(Config(pgidFile), env, database: db);
            // Blocked behind #1, which holds the job's slot while its server lives.
            var waiting = await PostAsync(b, "job/serial/buildWithParameters?P=quick");

            await a.KillAsync();
            var killedAt = Stopwatch.StartNew();

            var aborted = await b.WaitForBuildAsync("job/serial/", 1, TimeSpan.FromSeconds(75));
            Assert.Equal("ABORTED", aborted["result"]!.GetValue<string>());
            Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(60) + TimeSpan.FromSeconds(10), $"recorded aborted {killedAt.Elapsed} after the kill");
            Assert.Contains("Build aborted: the server running it stopped answering", await b.ConsoleAsync("job/serial/", 1));

            var next = await b.WaitForBuildAsync("job/serial/", 2);
            Assert.Equal(("SUCCESS", waiting), (next["result"]!.GetValue<string>(), next["queueId"]!.GetValue<long>()));
        }
        finally
        {
            // SIGKILL left the long build's shell and its sleep behind.
            if (File.Exists(pgidFile) && int.TryParse(File.ReadAllText(pgidFile).Trim(), out var pgid))
            {
                try
                {
                    using var orphan = Process.GetProcessById(pgid);
                    orphan.Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                    // Gone already.
                }
            }
            Directory.Delete(shared, recursive: true);
        }
    }
}
