using System.Diagnostics;
using System.Net;
using Valet.Core.Tests;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Cluster;

/// <summary>
/// limits.md §5 on PostgreSQL: while the database cannot be reached, requests that need it answer
/// 503 store-failed and /healthz 503; service resumes when it is back, with what was acknowledged.
/// A cluster of its own, halted and resumed; skipped without PostgreSQL.
/// </summary>
public sealed class DatabaseOutageTests
{
    const string Config = """
        server:
          quietPeriod: 3600
        jobs:
          - name: p
            authToken: secret
            parameters:
              - { type: string, name: v }
        """;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static string Cluster(string command, string dir)
    {
        var script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../tests/postgres/cluster"));
        var psi = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(command);
        psi.ArgumentList.Add(dir);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"cluster {command} failed: {errors}");
        return output.Trim();
    }

    [Fact]
    public async Task Requests_answer_503_while_the_database_is_away_and_service_resumes_when_it_is_back()
    {
        if (TestPostgres.AdminUrl is null)
            Assert.Skip("no PostgreSQL: VALET_TEST_POSTGRES is not set (./test starts a cluster)");
        var dir = Path.Combine("/tmp", "valet-outage-" + Guid.NewGuid().ToString("N")[..8]);
        var url = Cluster("start", dir);
        try
        {
            var database = new TestPostgres.Database(url, "postgres");
            await using var valet = await ValetProcess.StartAsync(Config, database: database);
            using var before = await valet.Anonymous().GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=before", Ct);
            Assert.Equal(HttpStatusCode.Created, before.StatusCode);

            Cluster("halt", dir);
            using (var during = await valet.Anonymous().GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=during", Ct))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
                Assert.Contains("store-failed", await during.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }
            using (var health = await valet.Anonymous().GetAsync("healthz", Ct))
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Single(valet.Output.Split('\n'), l => l.Contains("cannot be reached: requests answer 503", StringComparison.Ordinal));

            Cluster("resume", dir);
            await ValetProcess.WaitUntilAsync(async () => (await valet.Anonymous().GetAsync("healthz", Ct)).IsSuccessStatusCode,
                TimeSpan.FromSeconds(30), "/healthz to answer 200 again");
            using var after = await valet.Anonymous().GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=after", Ct);
            Assert.Equal(HttpStatusCode.Created, after.StatusCode);
            var queued = (await valet.QueueItemsAsync()).Select(i => i!["params"]!.GetValue<string>()).Order().ToList();
            Assert.Equal(["\nv=after", "\nv=before"], queued);
        }
        finally
        {
            Cluster("stop", dir);
        }
    }
}
