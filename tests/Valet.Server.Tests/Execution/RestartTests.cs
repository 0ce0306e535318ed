using System.Net;
using Microsoft.Data.Sqlite;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Execution;

public sealed class RestartTests
{
    const string Config = """
        server:
          executors: 1
          quietPeriod: 0
        jobs:
          - name: quick
            steps:
              - sh: echo quick $BUILD_NUMBER
          - name: later
            parameters:
              - { type: string, name: What }
              - { type: password, name: Pw }
            steps:
              - sh: echo "later $What $Pw"
          - name: slow
            steps:
              - sh: |
                  echo started
                  sleep 300
        """;

    static async Task<long> PostAsync(ValetProcess valet, string path)
    {
        using var response = await valet.Admin().PostAsync(path, null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return long.Parse(response.Headers.Location!.ToString().TrimEnd('/').Split('/')[^1]);
    }

    [Fact]
    public async Task A_restart_keeps_history_and_numbering()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var first = await PostAsync(valet, "job/quick/build");
        await valet.WaitForBuildAsync("job/quick/", 1);
        await PostAsync(valet, "job/quick/build");
        await valet.WaitForBuildAsync("job/quick/", 2);
        await valet.StopAsync();

        await valet.RestartAsync();
        var job = await valet.GetJsonAsync("job/quick/api/json");
        Assert.Equal(2, job["builds"]!.AsArray().Count);
        Assert.Equal(3, job["nextBuildNumber"]!.GetValue<int>());
        var third = await PostAsync(valet, "job/quick/build");
        Assert.True(third > first + 1);
        await valet.WaitForBuildAsync("job/quick/", 3);
        Assert.Contains("quick 1", await valet.ConsoleAsync("job/quick/", 1));
    }

    [Fact]
    public async Task After_a_crash_the_running_build_is_recorded_aborted_and_queued_items_still_run()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        await PostAsync(valet, "job/slow/build");
        await ValetProcess.WaitUntilAsync(async () => (await valet.ConsoleAsync("job/slow/", 1)).Contains("started"), TimeSpan.FromSeconds(30), "the slow build");
        // One executor is busy, so this item stays queued until the crash.
        var queued = await PostAsync(valet, "job/later/buildWithParameters?What=kept&Pw=s3cret");
        var before = await valet.GetJsonAsync($"queue/item/{queued}/api/json");
        Assert.Equal("\nWhat=kept\nPw=****", before["params"]!.GetValue<string>());

        await valet.KillAsync();
        await valet.RestartAsync();

        var aborted = await valet.WaitForBuildAsync("job/slow/", 1);
        Assert.Equal("ABORTED", aborted["result"]!.GetValue<string>());
        // On PostgreSQL the restarted server is another server: it ends the old one's work once that is found dead.
        Assert.Contains(ValetProcess.OnPostgres ? "the server running it stopped answering" : "the server stopped while this build was running",
            await valet.ConsoleAsync("job/slow/", 1));

        var later = await valet.WaitForBuildAsync("job/later/", 1);
        Assert.Equal("SUCCESS", later["result"]!.GetValue<string>());
        Assert.Equal(queued, later["queueId"]!.GetValue<long>());
        Assert.Contains("later kept ****", await valet.ConsoleAsync("job/later/", 1));
        Assert.True(await PostAsync(valet, "job/quick/build") > queued);
    }

    [Fact]
    public async Task A_graceful_stop_aborts_running_builds_and_records_them()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        await PostAsync(valet, "job/slow/build");
        await ValetProcess.WaitUntilAsync(async () => (await valet.ConsoleAsync("job/slow/", 1)).Contains("started"), TimeSpan.FromSeconds(30), "the slow build");
        await valet.StopAsync();
        Assert.Equal(0, valet.ExitCode);
        await valet.RestartAsync();
        var build = await valet.WaitForBuildAsync("job/slow/", 1);
        Assert.Equal("ABORTED", build["result"]!.GetValue<string>());
        Assert.Contains("Aborted by the server shutting down", await valet.ConsoleAsync("job/slow/", 1));
    }

    [Fact]
    public async Task After_a_crash_an_item_claimed_but_not_started_is_queued_again_with_its_id_and_built_under_a_new_number()
    {
        if (ValetProcess.OnPostgres)
            Assert.Skip("the crash is written into the SQLite file; ServerHeartbeatOnPostgresTests covers PostgreSQL");
        await using var valet = await ValetProcess.StartAsync(Config);
        await PostAsync(valet, "job/slow/build");
        await ValetProcess.WaitUntilAsync(async () => (await valet.ConsoleAsync("job/slow/", 1)).Contains("started"), TimeSpan.FromSeconds(30), "the slow build");
        var queued = await PostAsync(valet, "job/later/buildWithParameters?What=kept&Pw=s3cret");
        await valet.StopAsync();

        // What a crash between a claim's commit and the build's start leaves: the item left the queue
        // for build #1 of its job, which is recorded as starting and has no process yet.
        await using (var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(valet.Home, "valet.db"), Pooling = false }.ToString()))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken);
            await using var claim = conn.CreateCommand();
            claim.CommandText = """
                UPDATE item SET next_build_number = 2 WHERE full_name = 'later';
                INSERT INTO build (job_id, number, queue_id, state, started_at, causes, params, executor, workspace, node, server_id)
                SELECT job_id, 1, id, 'starting', left_at, causes, params, 1, '/nonexistent', 'built-in', 'crashed'
                FROM (SELECT job_id, id, 1 AS left_at, causes, params FROM queue_item WHERE id = $id);
                UPDATE queue_item SET state = 'left', build_number = 1, claimed_by = 'built-in', left_at = 1 WHERE id = $id;
                """;
            claim.Parameters.AddWithValue("$id", queued);
            await claim.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await valet.RestartAsync();

        var later = await valet.WaitForBuildAsync("job/later/", 2);
        Assert.Equal(("SUCCESS", queued), (later["result"]!.GetValue<string>(), later["queueId"]!.GetValue<long>()));
        Assert.Contains("later kept ****", await valet.ConsoleAsync("job/later/", 2));
        using var first = await valet.Admin().GetAsync("job/later/1/api/json");
        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
    }
}
