using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Valet.Core.Tests;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Storage;

/// <summary>
/// interface.md "Moving to PostgreSQL": `valet move-to-postgres` copies a stopped SQLite installation into an
/// empty PostgreSQL database, and a server started on the same home with --database carries on from there.
/// </summary>
public sealed class MoveToPostgresTests
{
    const string Config = """
        server:
          executors: 2
          quietPeriod: 0
        security:
          users:
            - { id: alice, password: alice-pw, fullName: Alice Example }
          permissions:
            admin: [Overall/Administer]
            authenticated: [Overall/Read, Job/Read, Job/Build]
            anonymous: []
        folders:
          - name: team
        jobs:
          - name: team/app
            authToken: app-secret
            parameters:
              - { type: string, name: greeting, default: hello }
            steps:
              - sh: echo "console says $greeting"
          - name: team/later
            authToken: later-secret
            quietPeriod: 3600
            parameters:
              - { type: string, name: size, default: S }
        """;

    const string App = "job/team/job/app/";

    [Fact]
    public async Task A_moved_installation_keeps_its_items_builds_consoles_tokens_queue_keys_and_audit_and_continues_its_numbers()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sqlite = await StartOnSqliteAsync();
        var admin = sqlite.Admin();

        using (var built = await Trigger(sqlite, "buildByToken/buildWithParameters?job=team/app&greeting=moved", "app-secret"))
            built.AssertStatus(HttpStatusCode.Created);
        await sqlite.WaitForBuildAsync(App, 1);
        using var keyed = await Trigger(sqlite, "buildByToken/buildWithParameters?job=team/app", "app-secret", key: "move-1");
        keyed.AssertStatus(HttpStatusCode.Created);
        await sqlite.WaitForBuildAsync(App, 2);
        using var waiting = await Trigger(sqlite, "buildByToken/buildWithParameters?job=team/later&size=L", "later-secret");
        waiting.AssertStatus(HttpStatusCode.Created);
        using (var refused = await Trigger(sqlite, "buildByToken/buildWithParameters?job=team/app", "wrong-token"))
            refused.AssertStatus(HttpStatusCode.Forbidden);
        using var made = await admin.PostAsync($"{App}tokens", new StringContent("""{"name":"ci"}""", Encoding.UTF8, "application/json"));
        made.AssertStatus(HttpStatusCode.Created);
        var jobToken = JsonNode.Parse(await made.BodyAsync())!["value"]!.GetValue<string>();
        using var generated = await sqlite.Client("alice", "alice-pw", crumbs: true).PostAsync(
            "me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", new FormUrlEncodedContent([new("newTokenName", "moved")]));
        generated.AssertStatus(HttpStatusCode.OK);
        var apiToken = JsonNode.Parse(await generated.BodyAsync())!["data"]!["tokenValue"]!.GetValue<string>();
        JsonArray audit = [];
        await ValetProcess.WaitUntilAsync(async () => (audit = (await sqlite.GetJsonAsync("audit/api/json"))["entries"]!.AsArray()).Count == 4,
            TimeSpan.FromSeconds(30), "four audit entries");
        var queueBefore = Portless(sqlite, WithoutWhy(await sqlite.QueueItemsAsync()));
        var buildBefore = Portless(sqlite, await sqlite.GetJsonAsync($"{App}1/api/json"));
        var console = await sqlite.ConsoleAsync(App, 1);
        Assert.Contains("console says moved", console, StringComparison.Ordinal);
        await sqlite.StopAsync();

        var (exit, output) = await MoveAsync(sqlite.Home, database.Url);

        Assert.True(exit == 0, output);
        Assert.Matches(@"queue_item\s+3 rows", output);
        Assert.Matches(@"build\s+2 rows", output);
        Assert.Matches(@"trigger_audit\s+4 rows", output);
        Assert.Matches(@"console_chunk\s+[1-9]\d* rows", output);
        Assert.DoesNotContain("consoles stay files under", output, StringComparison.Ordinal);
        await using var moved = await ValetProcess.StartAsync(home: sqlite.Home, database: database);
        Assert.Equal(2L, database.Scalar("SELECT count(*) FROM build"));

        // The same answers as before the move, now from PostgreSQL.
        Assert.Equal(buildBefore, Portless(moved, await moved.GetJsonAsync($"{App}1/api/json")));
        Assert.Equal(console, await moved.ConsoleAsync(App, 1));
        Assert.Equal(queueBefore, Portless(moved, WithoutWhy(await moved.QueueItemsAsync())));
        Assert.Equal(waiting.QueueId(), (await moved.QueueItemAsync(waiting.QueueId()))["id"]!.GetValue<long>());
        Assert.Equal(audit.ToJsonString(), (await moved.GetJsonAsync("audit/api/json"))["entries"]!.ToJsonString());
        using (var replayed = await Trigger(moved, "buildByToken/buildWithParameters?job=team/app", "app-secret", key: "move-1"))
        {
            replayed.AssertStatus(HttpStatusCode.Created);
            Assert.Equal(keyed.Headers.Location, replayed.Headers.Location);
            Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        }
        using (var asAlice = await moved.Client("alice", apiToken).GetAsync($"{App}api/json"))
            asAlice.AssertStatus(HttpStatusCode.OK);
        using (var wrongApiToken = await moved.Client("alice", "vlt_not-the-token").GetAsync($"{App}api/json"))
            wrongApiToken.AssertStatus(HttpStatusCode.Unauthorized);

        // The job token made before the move starts build 3 with a queue id above every old one.
        using var next = await Trigger(moved, "buildByToken/buildWithParameters?job=team/app", jobToken);
        next.AssertStatus(HttpStatusCode.Created);
        Assert.True(next.QueueId() > waiting.QueueId() && next.QueueId() > keyed.QueueId(), $"{next.QueueId()} after {waiting.QueueId()}");
        var third = await moved.WaitForBuildAsync(App, 3);
        Assert.Equal("SUCCESS", third["result"]!.GetValue<string>());
        Assert.Contains("console says hello", await moved.ConsoleAsync(App, 3), StringComparison.Ordinal);
        Assert.Equal(3, (await moved.GetJsonAsync($"{App}api/json"))["builds"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_move_refuses_while_a_server_holds_the_home_and_touches_neither_store()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sqlite = await StartOnSqliteAsync();

        var (exit, output) = await MoveAsync(sqlite.Home, database.Url);

        Assert.NotEqual(0, exit);
        Assert.Contains($"a server holds the home {sqlite.Home}: pid {sqlite.Pid} ", output, StringComparison.Ordinal);
        Assert.Equal(0L, database.Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
        using var health = await sqlite.Anonymous().GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Null(sqlite.ExitCode);
    }

    [Fact]
    public async Task The_move_refuses_a_target_that_already_has_data_and_changes_nothing_there()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sqlite = await StartOnSqliteAsync();
        await sqlite.StopAsync();
        // Another installation already lives in the target.
        await using var other = await ValetProcess.StartAsync(database: database);
        await other.StopAsync();
        var before = database.AllRows();
        Assert.Contains("examples/hello", before, StringComparison.Ordinal);

        var (exit, output) = await MoveAsync(sqlite.Home, database.Url);

        Assert.NotEqual(0, exit);
        Assert.Contains("The target database already has data", output, StringComparison.Ordinal);
        Assert.Contains("item", output, StringComparison.Ordinal);
        Assert.Contains("user_account", output, StringComparison.Ordinal);
        Assert.Equal(before, database.AllRows());
        Assert.DoesNotContain("team/app", database.AllRows(), StringComparison.Ordinal);
    }

    static async Task<ValetProcess> StartOnSqliteAsync()
    {
        if (ValetProcess.OnPostgres)
            Assert.Skip("moves a SQLite installation; the servers of this run start on PostgreSQL");
        return await ValetProcess.StartAsync(Config);
    }

    /// <summary>The JSON with the server's own address (its port differs per start) taken out of its URLs.</summary>
    static string Portless(ValetProcess valet, JsonNode json) => json.ToJsonString().Replace(valet.BaseAddress.ToString(), "/", StringComparison.Ordinal);

    /// <summary>Queue items without `why`, which counts the seconds left of the quiet period.</summary>
    static JsonArray WithoutWhy(JsonArray items)
    {
        foreach (var item in items)
            item!.AsObject().Remove("why");
        return items;
    }

    static Task<HttpResponseMessage> Trigger(ValetProcess valet, string path, string token, string? key = null) =>
        valet.SendAsync(HttpMethod.Post, path, m =>
        {
            m.Headers.Add("X-Build-Token", token);
            if (key is not null)
                m.Headers.Add("Idempotency-Key", key);
        });

    /// <summary>Runs `valet move-to-postgres` as the built server binary, as `./valet` does.</summary>
    static async Task<(int Exit, string Output)> MoveAsync(string home, string url)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[ValetProcess.ServerDll(), "move-to-postgres", "--to", url, "--home", home])
            psi.ArgumentList.Add(a);
        foreach (var name in (string[])["VALET_HOME", "VALET_DATABASE", "VALET_SECRETS", "VALET_CONFIG", "VALET_URLS"])
            psi.Environment.Remove(name);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await stdout + await stderr);
    }
}
