using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Valet.Core.Tests;
using Valet.Core.Tests.Scm;
using Valet.Server.Tests.Security;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Cluster;

/// <summary>
/// Two real server processes, each with its own home, on one PostgreSQL database: one Valet
/// (interface.md, "Several servers, one database"). Skipped without the test cluster.
/// </summary>
public sealed class SeveralServersTests
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
          triggerGuard: { enabled: true, maxFailures: 6, windowSeconds: 300 }
        jobs:
          - name: spread
            authToken: secret
            concurrent: true
            parameters:
              - { type: string, name: v }
            steps:
              - sh: echo "built $v"
          - name: p
            authToken: secret
            steps:
              - sh: echo p
        """;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed class Pair(TestPostgres.Database database, ValetProcess a, ValetProcess b) : IAsyncDisposable
    {
        public ValetProcess A => a;
        public ValetProcess B => b;

        public async ValueTask DisposeAsync()
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_second_server_with_the_first_ones_secrets_answers_as_the_first_does()
    {
        var pair = await StartSharingSecretsAsync();
        await using var _ = pair;
        foreach (var server in new[] { pair.A, pair.B })
        {
            var jobs = (await server.GetJsonAsync("api/json?tree=jobs[name]"))["jobs"]!.AsArray().Select(j => j!["name"]!.GetValue<string>()).Order();
            Assert.Equal(["p", "spread"], jobs);
            Assert.Equal("alice", await WhoAsync(server.Client("alice", "alice-pw")));
        }
        // First start was the database's: only the first server made the example and printed a password.
        Assert.DoesNotContain("examples/hello", pair.B.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Triggers_spread_over_both_servers_are_each_built_once_with_numbers_never_reused()
    {
        var pair = await StartSharingSecretsAsync();
        await using var _ = pair;
        const int Count = 30;
        var answers = await Task.WhenAll(Enumerable.Range(0, Count).Select(async i =>
        {
            var server = i % 2 == 0 ? pair.A : pair.B;
            using var response = await server.Anonymous().GetAsync($"buildByToken/buildWithParameters?job=spread&token=secret&v=value{i}", Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return response.QueueId();
        }));
        Assert.Equal(Count, answers.Distinct().Count());

        List<JsonNode> builds = [];
        await ValetProcess.WaitUntilAsync(async () =>
        {
            var numbers = (await pair.B.GetJsonAsync("job/spread/api/json?tree=builds[number]"))["builds"]!.AsArray().Select(b => b!["number"]!.GetValue<int>()).ToList();
            if (numbers.Count < Count)
                return false;
            builds = [.. await Task.WhenAll(numbers.Select(n => pair.A.GetJsonAsync($"job/spread/{n}/api/json")))];
            return builds.All(b => !b["building"]!.GetValue<bool>());
        }, TimeSpan.FromSeconds(120), "every trigger to be built");

        Assert.Equal(Enumerable.Range(1, Count), builds.Select(b => b["number"]!.GetValue<int>()).Order());
        var values = builds.Select(b => b["actions"]!.AsArray()
            .Single(a => a?["parameters"] is not null)!["parameters"]![0]!["value"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"value{i}").Order(), values);
        // Either server shows every console, whichever ran the build.
        var consoles = await Task.WhenAll(builds.Select(b => pair.A.ConsoleAsync("job/spread/", b["number"]!.GetValue<int>())));
        Assert.All(consoles, c => Assert.Contains("built value", c, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_an_api_token_a_cookie_and_a_crumb_made_on_one_server_work_on_the_other()
    {
        var pair = await StartSharingSecretsAsync();
        await using var _ = pair;

        // A job token made on A triggers through B.
        using var made = await pair.A.Admin().PostAsync("job/p/tokens", JsonContent.Create(new { name = "made" }), Ct);
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        var jobToken = JsonNode.Parse(await made.Content.ReadAsStringAsync(Ct))!["value"]!.GetValue<string>();
        using (var trigger = await pair.B.Anonymous().GetAsync($"buildByToken/build?job=p&token={jobToken}", Ct))
            Assert.Equal(HttpStatusCode.Created, trigger.StatusCode);

        // An API token generated on A signs alice in on B.
        using var generated = await pair.A.Client("alice", "alice-pw", crumbs: true).PostAsync(
            "me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", new FormUrlEncodedContent([new("newTokenName", "ci")]), Ct);
        var apiToken = JsonNode.Parse(await generated.Content.ReadAsStringAsync(Ct))!["data"]!["tokenValue"]!.GetValue<string>();
        Assert.Equal("alice", await WhoAsync(pair.B.Client("alice", apiToken)));

        // A sign-in cookie set by A is a session on B.
        var cookies = new CookieContainer();
        using (var signIn = await AuthenticationTests.SignInAsync(pair.A.Browser(cookies), "alice", "alice-pw"))
            Assert.Equal(HttpStatusCode.Found, signIn.StatusCode);
        var onB = new CookieContainer();
        foreach (Cookie cookie in cookies.GetAllCookies())
            onB.Add(pair.B.BaseAddress, new Cookie(cookie.Name, cookie.Value));
        Assert.Equal("alice", await WhoAsync(pair.B.Browser(onB)));

        // A crumb issued by A, with the session cookie it came with, is accepted by B for the same caller.
        var session = new CookieContainer();
        using var alice = pair.A.Browser(session);
        alice.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("alice:alice-pw"u8.ToArray()));
        var crumb = JsonNode.Parse(await alice.GetStringAsync("crumbIssuer/api/json", Ct))!["crumb"]!.GetValue<string>();
        var sessionOnB = new CookieContainer();
        foreach (Cookie cookie in session.GetAllCookies())
            sessionOnB.Add(pair.B.BaseAddress, new Cookie(cookie.Name, cookie.Value));
        using var aliceOnB = pair.B.Browser(sessionOnB);
        aliceOnB.DefaultRequestHeaders.Authorization = alice.DefaultRequestHeaders.Authorization;
        using var post = new HttpRequestMessage(HttpMethod.Post, "job/p/build");
        post.Headers.Add("Jenkins-Crumb", crumb);
        using var built = await aliceOnB.SendAsync(post, Ct);
        Assert.Equal(HttpStatusCode.Created, built.StatusCode);
        // Without the crumb B refuses, so the crumb is what made the difference.
        using var bare = await aliceOnB.PostAsync("job/p/build", null, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, bare.StatusCode);
    }

    [Fact]
    public async Task Failed_tokens_count_on_both_servers_so_a_second_server_gives_no_second_budget()
    {
        var pair = await StartSharingSecretsAsync();
        await using var _ = pair;
        // Six failures allowed in the window (Config): three on each server use them all.
        for (var i = 0; i < 6; i++)
        {
            using var wrong = await (i % 2 == 0 ? pair.A : pair.B).Anonymous().GetAsync($"buildByToken/build?job=p&token=wrong{i}", Ct);
            Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        }
        foreach (var server in new[] { pair.A, pair.B })
        {
            await ValetProcess.WaitUntilAsync(async () =>
            {
                using var blocked = await server.Anonymous().GetAsync("buildByToken/build?job=p&token=secret", Ct);
                return blocked.StatusCode == HttpStatusCode.TooManyRequests;
            }, TimeSpan.FromSeconds(5), "the address to be blocked on every server");
        }
        // The right token was refused too while blocked: nothing was queued.
        Assert.Empty((await pair.A.GetJsonAsync("queue/api/json"))["items"]!.AsArray());
    }

    [Fact]
    public async Task A_change_on_one_server_reaches_the_others_cache_within_a_second()
    {
        var pair = await StartSharingSecretsAsync();
        await using var _ = pair;
        using var made = await pair.A.Admin().PostAsync("job/p/tokens", JsonContent.Create(new { name = "short-lived" }), Ct);
        var token = JsonNode.Parse(await made.Content.ReadAsStringAsync(Ct))!["value"]!.GetValue<string>();
        // B caches the job and its tokens once it has used them.
        for (var i = 0; i < 3; i++)
        {
            using var ok = await pair.B.Anonymous().GetAsync($"buildByToken/build?job=p&token={token}", Ct);
            Assert.True(ok.StatusCode is HttpStatusCode.Created or HttpStatusCode.SeeOther, $"answered {(int)ok.StatusCode}");
        }

        using var revoked = await pair.A.Admin().PostAsync("job/p/tokens/short-lived/revoke", null, Ct);
        Assert.True(revoked.IsSuccessStatusCode, $"revoking answered {(int)revoked.StatusCode}");
        var clock = Stopwatch.StartNew();
        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var refused = await pair.B.Anonymous().GetAsync($"buildByToken/build?job=p&token={token}", Ct);
            return refused.StatusCode == HttpStatusCode.Forbidden;
        }, TimeSpan.FromSeconds(1), "the revoked token to be refused on the other server");
        TestContext.Current.TestOutputHelper?.WriteLine($"revocation on A reached B's cache after {clock.ElapsedMilliseconds} ms");

    }

    [Fact]
    public async Task Polling_requests_sent_to_both_servers_while_a_poll_runs_make_one_more_run_and_never_two_at_once()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello\n", "First commit");
        // git as the servers run it, slowed down for ls-remote (the polling run's read of the remote head),
        // which it records: the test sees when a polling run starts and ends on either server.
        var tools = Directory.CreateTempSubdirectory("valet-slow-git-");
        var runs = Path.Combine(tools.FullName, "runs");
        var git = new[] { "/usr/bin/git", "/usr/local/bin/git", "/bin/git" }.First(File.Exists);
        var wrapper = Path.Combine(tools.FullName, "git");
        File.WriteAllText(wrapper, $"""
            #!/bin/sh
            if [ "$1" = ls-remote ]; then
              echo start >> '{runs}'
              sleep 3
              '{git}' "$@"; status=$?
              echo end >> '{runs}'
              exit $status
            fi
            exec '{git}' "$@"

            """);
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var pair = await StartSharingSecretsAsync($$"""
            server:
              quietPeriod: 0
              environment:
                PATH: "{{tools.FullName}}:{{Environment.GetEnvironmentVariable("PATH")}}"
            jobs:
              - name: polled
                authToken: secret
                scm:
                  git: { url: "{{repo.Url}}", branch: main }
                triggers:
                  pollScm: ""
                steps:
                  - sh: cat hello.txt
            """);
        await using var _ = pair;
        string[] Runs() => File.Exists(runs) ? File.ReadAllLines(runs) : [];

        using (var first = await pair.A.Anonymous().GetAsync("buildByToken/polling?job=polled&token=secret", Ct))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await ValetProcess.WaitUntilAsync(() => Task.FromResult(Runs().Length > 0), TimeSpan.FromSeconds(30), "the first polling run to start");
        var both = await Task.WhenAll(new[] { pair.A, pair.B }.Select(async server =>
        {
            using var response = await server.Anonymous().GetAsync("buildByToken/polling?job=polled&token=secret", Ct);
            return response.StatusCode;
        }));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], both);
        Assert.Equal(["start"], Runs());

        await ValetProcess.WaitUntilAsync(() => Task.FromResult(Runs().Count(l => l == "end") == 2), TimeSpan.FromSeconds(60), "two polling runs to end");
        await pair.B.WaitForBuildAsync("job/polled/", 1);
        using var log = await pair.B.Admin().GetAsync("job/polled/scmPollLog", Ct);
        var text = await log.Content.ReadAsStringAsync(Ct);

        // The run going on when both requests came, then exactly one more, one after the other.
        Assert.Equal(["start", "end", "start", "end"], Runs());
        Assert.Equal(2, text.Split("Started on").Length - 1);
        tools.Delete(recursive: true);
    }

    /// <summary>A first, then B with A's secrets directory (--secrets), as an operator sets them up.</summary>
    static async Task<Pair> StartSharingSecretsAsync(string config = Config)
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var a = await ValetProcess.StartAsync(config, database: database);
        var b = await ValetProcess.StartAsync(config, database: database, env: new() { ["VALET_SECRETS"] = Path.Combine(a.Home, "secrets") });
        return new Pair(database, a, b);
    }

    static async Task<string?> WhoAsync(HttpClient client)
    {
        using (client)
        {
            var who = JsonNode.Parse(await client.GetStringAsync("whoAmI/api/json", Ct))!;
            return who["name"]?.GetValue<string>();
        }
    }
}
