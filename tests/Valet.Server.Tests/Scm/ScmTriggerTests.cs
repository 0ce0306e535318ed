using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Valet.Core.Tests.Scm;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Scm;

/// <summary>A job on a real git repository, built through polling and its schedule, seen through the API.</summary>
public sealed class ScmTriggerTests
{
    static string Config(GitRepo repo) => $"""
        server: {"{"} quietPeriod: 0 {"}"}
        jobs:
          - name: app
            authToken: secret
            scm:
              git: {"{"} url: "{repo.Url}", branch: main {"}"}
            triggers:
              pollScm: ""
            steps:
              - sh: cat hello.txt
          - name: plain
            authToken: secret
            scm:
              git: {"{"} url: "{repo.Url}", branch: main {"}"}
            steps:
              - sh: cat hello.txt
        """;

    [Fact]
    public async Task Token_polling_builds_each_new_commit_and_the_run_json_lists_its_change_set()
    {
        using var repo = GitRepo.Create();
        var first = repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var valet = await ValetProcess.StartAsync(Config(repo));

        using var poll = await valet.GetAsync("buildByToken/polling?job=app&token=secret");
        poll.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Scheduled.\n", await poll.BodyAsync());
        var build1 = await valet.WaitForBuildAsync("job/app/", 1);
        Assert.Equal("SUCCESS", build1["result"]!.GetValue<string>());
        Assert.Contains("hello one", await valet.ConsoleAsync("job/app/", 1));
        Assert.Contains("Started by an SCM change", build1["actions"]!.ToJsonString());

        var second = repo.Commit("hello.txt", "hello two\n", "Say two");
        using var again = await valet.GetAsync("buildByToken/polling?job=app&token=secret");
        again.AssertStatus(HttpStatusCode.OK);
        var build2 = await valet.WaitForBuildAsync("job/app/", 2);

        Assert.Contains("hello two", await valet.ConsoleAsync("job/app/", 2));
        var changeSet = build2["changeSets"]!.AsArray().Single()!;
        Assert.Equal("hudson.plugins.git.GitChangeSetList", changeSet["_class"]!.GetValue<string>());
        Assert.Equal("git", changeSet["kind"]!.GetValue<string>());
        var entry = changeSet["items"]!.AsArray().Single()!;
        Assert.Equal(second, entry["commitId"]!.GetValue<string>());
        Assert.Equal("Say two", entry["msg"]!.GetValue<string>());
        Assert.Equal("Ada Lovelace", entry["author"]!["fullName"]!.GetValue<string>());
        var buildData = build2["actions"]!.AsArray().Single(a => a?["_class"]?.GetValue<string>() == "hudson.plugins.git.util.BuildData")!;
        Assert.Equal(second, buildData["lastBuiltRevision"]!["SHA1"]!.GetValue<string>());

        using var log = await valet.Admin().GetAsync("job/app/scmPollLog");
        Assert.Equal(HttpStatusCode.OK, log.StatusCode);
        Assert.Contains($"Changes found: {first} → {second}", await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Token_polling_of_a_job_without_a_poll_scm_trigger_is_400_and_polls_nothing()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var valet = await ValetProcess.StartAsync(Config(repo));

        using var poll = await valet.GetAsync("buildByToken/polling?job=plain&token=secret");

        poll.AssertStatus(HttpStatusCode.BadRequest, "cannot-poll");
        Assert.Empty(await valet.QueueItemsAsync());
        using var log = await valet.Admin().GetAsync("job/plain/scmPollLog");
        Assert.Equal("", await log.Content.ReadAsStringAsync());
        Assert.Empty((await valet.GetJsonAsync("job/plain/api/json"))["builds"]!.AsArray());
    }

    [Fact]
    public async Task Core_polling_url_polls_for_a_builder_and_redirects_to_the_job()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var valet = await ValetProcess.StartAsync(Config(repo));

        using var poll = await valet.Admin().PostAsync("job/app/polling", null);

        Assert.Equal(HttpStatusCode.Found, poll.StatusCode);
        Assert.EndsWith("/job/app/", poll.Headers.Location!.OriginalString);
        var build = await valet.WaitForBuildAsync("job/app/", 1);
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task Core_polling_url_refuses_a_get_without_token_and_redirects_without_polling_a_job_without_poll_scm()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var valet = await ValetProcess.StartAsync(Config(repo));

        using var get = await valet.Admin().GetAsync("job/app/polling");
        using var noTrigger = await valet.Admin().PostAsync("job/plain/polling", null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(HttpStatusCode.Found, noTrigger.StatusCode);
        Assert.Empty(await valet.QueueItemsAsync());
        foreach (var job in new[] { "app", "plain" })
        {
            using var log = await valet.Admin().GetAsync($"job/{job}/scmPollLog");
            Assert.Equal("", await log.Content.ReadAsStringAsync());
            Assert.Empty((await valet.GetJsonAsync($"job/{job}/api/json"))["builds"]!.AsArray());
        }
    }

    [Fact]
    public async Task An_every_minute_cron_starts_a_timer_build_within_about_a_minute_of_start_up()
    {
        await using var valet = await ValetProcess.StartAsync("""
            server: { quietPeriod: 0 }
            jobs:
              - name: ticking
                triggers:
                  cron: "* * * * *"
                steps:
                  - sh: echo tick
            """);

        var build = await valet.WaitForBuildAsync("job/ticking/", 1, TimeSpan.FromSeconds(90));

        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        Assert.StartsWith("Started by timer\n", await valet.ConsoleAsync("job/ticking/", 1));
    }

    [Fact]
    public async Task An_invalid_cron_spec_stops_the_start_naming_the_job_and_the_field()
    {
        await using var valet = await ValetProcess.StartAsync("""
            jobs:
              - name: nightly
                triggers:
                  cron: "H 25 * * *"
            """, waitUntilReady: false);

        Assert.NotEqual(0, await valet.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("job 'nightly': triggers.cron: invalid cron spec 'H 25 * * *': hour: '25' is out of range 0-23", valet.Output);
        Assert.DoesNotContain("Now listening", valet.Output);
    }

    [Fact]
    public async Task An_invalid_poll_spec_sent_to_the_api_is_400_and_creates_nothing()
    {
        await using var valet = await ValetProcess.StartAsync("server: { quietPeriod: 0 }\n");

        using var put = await valet.Admin().PutAsync("job/x/config.json",
            new StringContent("""{"triggers": {"pollScm": "*/0 * * * *"}}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("triggers.pollScm: invalid cron spec '*/0 * * * *': minute: '*/0' has an invalid step", await put.Content.ReadAsStringAsync());
        using var job = await valet.Admin().GetAsync("job/x/api/json");
        Assert.Equal(HttpStatusCode.NotFound, job.StatusCode);
    }

    [Fact]
    public async Task An_unknown_time_zone_in_a_cron_spec_stops_the_start_naming_the_job_and_the_field()
    {
        await using var valet = await ValetProcess.StartAsync("""
            jobs:
              - name: nightly
                triggers:
                  cron: "TZ=Europe/Atlantis\nH 2 * * *"
            """, waitUntilReady: false);

        Assert.NotEqual(0, await valet.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("job 'nightly': triggers.cron: invalid cron spec line 1: 'TZ=Europe/Atlantis': unknown time zone 'Europe/Atlantis'", valet.Output);
        Assert.DoesNotContain("Now listening", valet.Output);
    }

    [Fact]
    public async Task An_unknown_time_zone_sent_to_the_api_is_400_and_a_known_one_is_kept()
    {
        await using var valet = await ValetProcess.StartAsync("server: { quietPeriod: 0 }\n");

        using var bad = await valet.Admin().PutAsync("job/x/config.json",
            new StringContent("""{"triggers": {"pollScm": "TZ=Nowhere/Special\nH/5 * * * *"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("job 'x': triggers.pollScm: invalid cron spec line 1: 'TZ=Nowhere/Special': unknown time zone 'Nowhere/Special'", await bad.Content.ReadAsStringAsync());
        using var none = await valet.Admin().GetAsync("job/x/api/json");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);

        using var good = await valet.Admin().PutAsync("job/x/config.json",
            new StringContent("""{"triggers": {"cron": "TZ=Asia/Kolkata\nH 9 * * 1-5"}}""", Encoding.UTF8, "application/json"));
        Assert.True(good.IsSuccessStatusCode, $"{good.StatusCode}: {await good.Content.ReadAsStringAsync()}");
        var config = await valet.GetJsonAsync("job/x/config.json");
        Assert.Equal("TZ=Asia/Kolkata\nH 9 * * 1-5", config["triggers"]!["cron"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_password_in_the_git_url_shows_in_no_polling_log_console_api_answer_or_log_file()
    {
        const string Url = "http://ci-user:s3cret-7Qz@127.0.0.1:1/repo.git";
        await using var valet = await ValetProcess.StartAsync($$"""
            server: { quietPeriod: 0 }
            jobs:
              - name: private
                authToken: secret
                scm:
                  git: { url: "{{Url}}", branch: main }
                triggers:
                  pollScm: ""
                steps:
                  - sh: echo never
            """, new() { ["Logging__LogLevel__Default"] = "Trace" });

        using (var poll = await valet.GetAsync("buildByToken/polling?job=private&token=secret"))
            poll.AssertStatus(HttpStatusCode.OK);
        var pollLog = "";
        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var log = await valet.Admin().GetAsync("job/private/scmPollLog");
            pollLog = await log.Content.ReadAsStringAsync();
            return pollLog.Contains("Done.", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), "the polling run to end");
        using (var build = await valet.GetAsync("buildByToken/build?job=private&token=secret"))
            Assert.Equal(HttpStatusCode.Created, build.StatusCode);
        var run = await valet.WaitForBuildAsync("job/private/", 1);
        var console = await valet.ConsoleAsync("job/private/", 1);
        var job = (await valet.GetJsonAsync("job/private/api/json?depth=2")).ToJsonString();
        var runJson = run.ToJsonString();
        await valet.StopAsync();
        var logs = string.Concat(Directory.EnumerateFiles(Path.Combine(valet.Home, "logs"), "*", SearchOption.AllDirectories).Select(File.ReadAllText));

        // git ran with the URL without its password (that comes from a credential helper) and failed.
        Assert.Contains("Polling http://ci-user:****@127.0.0.1:1/repo.git branch main", pollLog);
        Assert.Contains("git ls-remote http://ci-user@127.0.0.1:1/repo.git", pollLog);
        Assert.Contains("Could not read the head of main; no build", pollLog);
        Assert.Equal("FAILURE", run["result"]!.GetValue<string>());
        Assert.Contains("git remote add origin http://ci-user@127.0.0.1:1/repo.git", console);
        Assert.Contains("Checkout of http://ci-user:****@127.0.0.1:1/repo.git (main) failed", console);
        Assert.DoesNotContain("never", console.Replace("echo never", ""));
        foreach (var (what, text) in new[] { ("polling log", pollLog), ("console", console), ("job API", job), ("run API", runJson), ("server output", valet.Output), ("log files", logs) })
            Assert.False(text.Contains("s3cret", StringComparison.Ordinal), $"the {what} shows the password");
    }

    [Fact]
    public async Task A_credentials_reference_round_trips_through_the_api_and_builds_go_on_saying_it_is_not_used()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var valet = await ValetProcess.StartAsync("server: { quietPeriod: 0 }\n");
        var entry = new JsonObject
        {
            ["scm"] = new JsonObject { ["git"] = new JsonObject { ["url"] = repo.Url, ["branch"] = "main", ["credentials"] = "deploy-key" } },
            ["triggers"] = new JsonObject { ["pollScm"] = "" },
            ["steps"] = new JsonArray(new JsonObject { ["sh"] = "cat hello.txt" }),
        }.ToJsonString();

        using (var put = await valet.Admin().PutAsync("job/app/config.json", new StringContent(entry, Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var git = (await valet.GetJsonAsync("job/app/config.json"))["scm"]!["git"]!;
        Assert.Equal("deploy-key", git["credentials"]!.GetValue<string>());
        var xml = await valet.Admin().GetStringAsync("job/app/config.xml");
        Assert.Contains("<credentialsId>deploy-key</credentialsId>", xml);
        // config.xml posted back as read keeps the reference.
        using (var post = await valet.Admin().PostAsync("job/app/config.xml", new StringContent(xml, Encoding.UTF8, "application/xml")))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal("deploy-key", (await valet.GetJsonAsync("job/app/config.json"))["scm"]!["git"]!["credentials"]!.GetValue<string>());

        using (var poll = await valet.Admin().PostAsync("job/app/polling", null))
            Assert.Equal(HttpStatusCode.Found, poll.StatusCode);
        var build = await valet.WaitForBuildAsync("job/app/", 1);

        const string NotUsed = "Credentials 'deploy-key' not used: this server has no credentials store yet; git uses the server user's own credentials";
        Assert.Equal("SUCCESS", build["result"]!.GetValue<string>());
        var console = await valet.ConsoleAsync("job/app/", 1);
        Assert.Contains(NotUsed, console);
        Assert.Contains("hello one", console);
        using var log = await valet.Admin().GetAsync("job/app/scmPollLog");
        Assert.Contains(NotUsed, await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_git_url_password_reaches_git_only_through_a_credential_helper_reads_back_masked_and_is_kept_when_written_back()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        // The repository over git's dumb HTTP protocol behind Basic authentication, so the checkout
        // works only when the URL's password reaches git; the step checks GIT_URL itself (by digest:
        // the password must not be written into the job's own steps).
        var served = Directory.CreateTempSubdirectory("valet-http-git-");
        repo.Git("clone", "-q", "--bare", repo.Dir, Path.Combine(served.FullName, "repo.git"));
        repo.Git("-C", Path.Combine(served.FullName, "repo.git"), "update-server-info");
        using var http = Process.Start(new ProcessStartInfo("python3", ["-u", "-c", BasicAuthGitServer, served.FullName, "ci-user:s3cret-7Qz"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var serving = await http.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken) ?? "";
            var port = System.Text.RegularExpressions.Regex.Match(serving, @"port (\d+)").Groups[1].Value;
            var url = $"http://ci-user:s3cret-7Qz@127.0.0.1:{port}/repo.git";
            var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(url)));
            await using var valet = await ValetProcess.StartAsync("server: { quietPeriod: 0 }\n");
            var entry = new JsonObject
            {
                ["scm"] = new JsonObject { ["git"] = new JsonObject { ["url"] = url, ["branch"] = "main" } },
                ["triggers"] = new JsonObject { ["pollScm"] = "" },
                ["steps"] = new JsonArray(new JsonObject { ["sh"] = $"test \"$(printf %s \"$GIT_URL\" | sha256sum | cut -d' ' -f1)\" = {digest}\necho url as configured\ncat hello.txt" }),
            }.ToJsonString();
            using (var put = await valet.Admin().PutAsync("job/app/config.json", new StringContent(entry, Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);

            var json = await valet.Admin().GetStringAsync("job/app/config.json");
            var xml = await valet.Admin().GetStringAsync("job/app/config.xml");
            Assert.Contains($"http://ci-user:****@127.0.0.1:{port}/repo.git", json);
            Assert.Contains($"<url>http://ci-user:****@127.0.0.1:{port}/repo.git</url>", xml);
            using (var again = await valet.Admin().PutAsync("job/app/config.json", new StringContent(json, Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            using (var post = await valet.Admin().PostAsync("job/app/config.xml", new StringContent(xml, Encoding.UTF8, "application/xml")))
                Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            var xmlAgain = await valet.Admin().GetStringAsync("job/app/config.xml");

            using (var poll = await valet.Admin().PostAsync("job/app/polling", null))
                Assert.Equal(HttpStatusCode.Found, poll.StatusCode);
            var build = await valet.WaitForBuildAsync("job/app/", 1);
            var console = await valet.ConsoleAsync("job/app/", 1);

            Assert.True(build["result"]!.GetValue<string>() == "SUCCESS", console);
            // sh -e: the digest check passed, or the build would have failed before these lines.
            Assert.Contains("\nurl as configured\n", console);
            Assert.Contains("\nhello one\n", console);
            var clone = await File.ReadAllTextAsync(Path.Combine(valet.Home, "workspace", "app", ".git", "config"), TestContext.Current.CancellationToken);
            Assert.Contains($"url = http://ci-user@127.0.0.1:{port}/repo.git", clone);
            foreach (var text in new[] { json, xml, xmlAgain, console, clone })
                Assert.DoesNotContain("s3cret", text);
        }
        finally
        {
            http.Kill(entireProcessTree: true);
            await http.WaitForExitAsync(CancellationToken.None);
            served.Delete(recursive: true);
        }
    }

    /// <summary>Serves a directory (argument 1) to requests with Basic credentials `user:password` (argument 2) only.</summary>
    const string BasicAuthGitServer = """
        import base64, functools, http.server, sys
        wanted = "Basic " + base64.b64encode(sys.argv[2].encode()).decode()
        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                if self.headers.get("Authorization") != wanted:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
        print("Serving HTTP on 127.0.0.1 port", server.server_address[1], flush=True)
        server.serve_forever()
        """;
}
