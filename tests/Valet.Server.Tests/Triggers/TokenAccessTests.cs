using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>TR-41…58: callers without a token, methods, headers, idempotency, guard, status, answers, logs, audit, tokens.</summary>
public sealed class TokenAccessTests
{
    [Fact]
    public async Task Without_a_token_anonymous_is_refused_and_a_builder_must_post()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-41
        using var anonymous = await valet.GetAsync("buildByToken/build?job=p");
        anonymous.AssertStatus(HttpStatusCode.Forbidden, "no-permission");
        // TR-42
        var alice = valet.Client("alice", "alice-pw");
        using var get = await valet.SendAsync(HttpMethod.Get, "buildByToken/build?job=p", client: alice);
        get.AssertStatus(HttpStatusCode.MethodNotAllowed, "post-required");
        Assert.Equal("POST", string.Join(",", get.Content.Headers.Allow));
        using var post = await valet.SendAsync(HttpMethod.Post, "buildByToken/build?job=p", client: alice);
        post.AssertStatus(HttpStatusCode.Created);
        var causes = (await valet.QueueItemAsync(post.QueueId()))["actions"]!.AsArray()
            .Single(a => a!["_class"]!.GetValue<string>() == "hudson.model.CauseAction")!["causes"]!.AsArray();
        Assert.Equal("hudson.model.Cause$RemoteCause", causes[0]!["_class"]!.GetValue<string>());

        // A browser signed in with a cookie may POST without a crumb here.
        var browser = valet.Browser();
        using (var signIn = await Security.AuthenticationTests.SignInAsync(browser, "alice", "alice-pw"))
            signIn.AssertStatus(HttpStatusCode.Found);
        using var cookieTrigger = await browser.PostAsync("buildByToken/build?job=now", null);
        cookieTrigger.AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Any_method_works_with_the_right_token_from_the_query_or_the_header()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-43
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Delete })
        {
            using var r = await valet.SendAsync(method, "buildByToken/build?job=now&token=secret");
            r.AssertStatus(HttpStatusCode.Created);
            await valet.WaitForBuildAsync("job/now/", method == HttpMethod.Put ? 1 : 2);
        }
        // TR-44
        using var header = await valet.GetAsync("buildByToken/build?job=p", m => m.Headers.Add("X-Build-Token", "secret"));
        header.AssertStatus(HttpStatusCode.Created);
        using var paramWins = await valet.GetAsync("buildByToken/build?job=p&token=wrong", m => m.Headers.Add("X-Build-Token", "secret"));
        paramWins.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        using var badHeader = await valet.GetAsync("buildByToken/build?job=p", m => m.Headers.Add("X-Build-Token", "nope"));
        badHeader.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        // TR-45, on a job with nothing queued yet
        using var firstWins = await valet.GetAsync("buildByToken/build?job=dir/p&token=secret&token=wrong");
        firstWins.AssertStatus(HttpStatusCode.Created);
        using var reversed = await valet.GetAsync("buildByToken/build?job=dir/p&token=wrong&token=secret");
        reversed.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
    }

    [Fact]
    public async Task Bodies_over_1_MiB_are_413_whatever_their_type_and_unreadable_forms_400()
    {
        // Step 1b. A body sent in chunks announces no length: it is refused once more than 1 MiB has
        // been read, also when Valet does not use it (JSON) or it stops parsing before that.
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        const string url = "buildByToken/build?job=p&token=secret&delay=600sec";
        var overLimit = 1024 * 1024 + 1;
        async Task<HttpResponseMessage> Post(string type, string body, bool chunked) =>
            await valet.SendAsync(HttpMethod.Post, url, m =>
            {
                m.Content = new StringContent(body);
                m.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
                m.Headers.TransferEncodingChunked = chunked;
            });

        var form = string.Join('&', Enumerable.Range(0, overLimit / 8).Select(i => $"k{i:D5}=v"));
        foreach (var chunked in new[] { false, true })
        {
            using var largeForm = await Post("application/x-www-form-urlencoded", form, chunked);
            largeForm.AssertStatus(HttpStatusCode.RequestEntityTooLarge, "body-too-large");
            using var largeJson = await Post("application/json", $$"""{"x":"{{new string('y', overLimit)}}"}""", chunked);
            largeJson.AssertStatus(HttpStatusCode.RequestEntityTooLarge, "body-too-large");
            // One name longer than a form reader accepts: unparseable, but too large first.
            using var largeAndUnparseable = await Post("application/x-www-form-urlencoded", new string('a', overLimit), chunked);
            largeAndUnparseable.AssertStatus(HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        }
        using var noBoundary = await Post("multipart/form-data", "field", chunked: false);
        noBoundary.AssertStatus(HttpStatusCode.BadRequest, "bad-body");
        using var brokenMultipart = await Post("multipart/form-data; boundary=zz", "no parts here", chunked: true);
        brokenMultipart.AssertStatus(HttpStatusCode.BadRequest, "bad-body");
        Assert.Empty(await valet.QueueItemsAsync());

        // A small body of another type is not read for inputs, and the trigger goes on.
        using var smallJson = await Post("application/json", """{"job":"q","token":"other"}""", chunked: true);
        smallJson.AssertStatus(HttpStatusCode.Created);
        Assert.Single(await valet.QueueItemsAsync());
    }

    [Fact]
    public async Task A_client_still_sending_a_body_over_the_limit_reads_its_413_not_a_reset_connection()
    {
        // The 413 goes out when the length is known to be too large, before the body has arrived.
        // Closing then, with unread bytes, would reset the connection and drop the answer unread.
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        foreach (var (framing, size) in new[] { ("Content-Length: 3145728", 3 * 1024 * 1024), ("Transfer-Encoding: chunked", 2 * 1024 * 1024) })
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(valet.BaseAddress.Host, valet.BaseAddress.Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                $"POST /buildByToken/build?job=p&token=secret HTTP/1.1\r\nHost: valet\r\nContent-Type: application/octet-stream\r\n{framing}\r\nConnection: close\r\n\r\n"), timeout.Token);
            var piece = new byte[64 * 1024];
            var chunked = framing.StartsWith("Transfer", StringComparison.Ordinal);
            for (var sent = 0; sent < size; sent += piece.Length)
            {
                if (chunked)
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"{piece.Length:x}\r\n"), timeout.Token);
                await stream.WriteAsync(piece, timeout.Token);
                if (chunked)
                    await stream.WriteAsync("\r\n"u8.ToArray(), timeout.Token);
                // The server has answered by the time the rest is sent.
                if (sent == 0 || sent == 1024 * 1024)
                    await Task.Delay(300, timeout.Token);
            }
            if (chunked)
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), timeout.Token);
            using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
            var answer = await reader.ReadToEndAsync(timeout.Token);
            Assert.StartsWith("HTTP/1.1 413 ", answer, StringComparison.Ordinal);
            Assert.Contains("body-too-large", answer, StringComparison.Ordinal);
        }
        Assert.Empty(await valet.QueueItemsAsync());
    }

    [Fact]
    public async Task Polling_answers_scheduled_for_jobs_with_a_poll_trigger_only()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-46, TR-48 (the poll itself arrives with SCM polling)
        using var ok = await valet.GetAsync("buildByToken/polling?job=polled&token=secret&delay=abc&cause=x");
        ok.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("text/html", ok.Content.Headers.ContentType!.MediaType);
        Assert.Equal("Scheduled.\n", await ok.BodyAsync());
        // TR-47
        using var noTrigger = await valet.GetAsync("buildByToken/polling?job=p&token=secret");
        noTrigger.AssertStatus(HttpStatusCode.BadRequest, "cannot-poll");
        using var wrong = await valet.GetAsync("buildByToken/polling?job=polled&token=nope");
        wrong.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        using var unknown = await valet.GetAsync("buildByToken/polling?job=nope&token=secret");
        unknown.AssertStatus(HttpStatusCode.NotFound);
        using var disabled = await valet.GetAsync("buildByToken/polling?job=polldisabled&token=secret");
        disabled.AssertStatus(HttpStatusCode.BadRequest, "disabled");
        using var parameterized = await valet.GetAsync("buildByToken/polling?job=polledparams&token=secret");
        parameterized.AssertStatus(HttpStatusCode.OK);
        Assert.Empty(await valet.QueueItemsAsync());
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_first_answer_for_that_job_and_endpoint()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-49
        void Key(HttpRequestMessage m) => m.Headers.Add("Idempotency-Key", "k1");
        using var first = await valet.GetAsync("buildByToken/build?job=now&token=secret", Key);
        first.AssertStatus(HttpStatusCode.Created);
        using var repeat = await valet.GetAsync("buildByToken/build?job=now&token=secret", Key);
        repeat.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.Headers.Location, repeat.Headers.Location);
        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        await valet.WaitForBuildAsync("job/now/", 1);
        using var afterBuild = await valet.GetAsync("buildByToken/build?job=now&token=secret", Key);
        afterBuild.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.Headers.Location, afterBuild.Headers.Location);
        Assert.Equal("true", afterBuild.Headers.GetValues("Idempotent-Replayed").Single());
        using var wrongToken = await valet.GetAsync("buildByToken/build?job=now&token=nope", Key);
        wrongToken.AssertStatus(HttpStatusCode.Forbidden);
        using var otherJob = await valet.GetAsync("buildByToken/build?job=p&token=secret", Key);
        otherJob.AssertStatus(HttpStatusCode.Created);
        Assert.NotEqual(first.Headers.Location, otherJob.Headers.Location);
        Assert.Single((await valet.GetJsonAsync("job/now/api/json"))["builds"]!.AsArray());
        // Keys persist across restarts.
        await valet.StopAsync();
        await valet.RestartAsync();
        using var afterRestart = await valet.GetAsync("buildByToken/build?job=now&token=secret", Key);
        Assert.Equal(first.Headers.Location, afterRestart.Headers.Location);
        // TR-50
        using var tooLong = await valet.GetAsync("buildByToken/build?job=p&token=secret", m => m.Headers.Add("Idempotency-Key", new string('k', 256)));
        tooLong.AssertStatus(HttpStatusCode.BadRequest, "bad-idempotency-key");
    }

    [Fact]
    public async Task Ten_failures_from_one_address_lock_it_out_and_leave_others_alone()
    {
        // TR-51: addresses told apart through a trusted proxy's X-Forwarded-For.
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config.Replace("quietPeriod: 5\n", "quietPeriod: 5\n  trustedProxies: [127.0.0.1]\n"));
        void From(HttpRequestMessage m, string address) => m.Headers.Add("X-Forwarded-For", address);
        for (var i = 0; i < 10; i++)
        {
            using var r = await valet.GetAsync("buildByToken/build?job=p&token=wrong", m => From(m, "198.51.100.7"));
            r.AssertStatus(HttpStatusCode.Forbidden);
        }
        using var blocked = await valet.GetAsync("buildByToken/build?job=p&token=secret", m => From(m, "198.51.100.7"));
        blocked.AssertStatus(HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(blocked.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
        using var other = await valet.GetAsync("buildByToken/build?job=p&token=secret", m => From(m, "198.51.100.8"));
        other.AssertStatus(HttpStatusCode.Created);

        await using var off = await ValetProcess.StartAsync(TokenSetup.Config.Replace("anonymous: []\n", "anonymous: []\n  triggerGuard: { enabled: false }\n"));
        for (var i = 0; i < 12; i++)
        {
            using var r = await off.GetAsync("buildByToken/build?job=p&token=wrong");
            r.AssertStatus(HttpStatusCode.Forbidden);
        }
    }

    [Fact]
    public async Task The_guard_lets_an_address_back_in_once_its_failures_age_out()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config.Replace("anonymous: []\n", "anonymous: []\n  triggerGuard: { enabled: true, maxFailures: 2, windowSeconds: 2 }\n"));
        for (var i = 0; i < 2; i++)
            await valet.GetAsync("buildByToken/build?job=p&token=wrong");
        using var blocked = await valet.GetAsync("buildByToken/build?job=p&token=secret");
        blocked.AssertStatus(HttpStatusCode.TooManyRequests);
        // Every /buildByToken/ request from a blocked address, an unknown endpoint too (§8.3).
        using var unknownEndpoint = await valet.GetAsync("buildByToken/other?job=p&token=secret");
        unknownEndpoint.AssertStatus(HttpStatusCode.TooManyRequests, "rate-limited");
        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var r = await valet.GetAsync("buildByToken/build?job=p&token=secret");
            return r.StatusCode == HttpStatusCode.Created;
        }, TimeSpan.FromSeconds(10), "the address to be let back in");
    }

    [Fact]
    public async Task Status_follows_an_item_from_waiting_to_its_finished_build()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-52
        using var queued = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=2sec");
        var id = queued.QueueId();
        var waiting = JsonNode.Parse(await (await valet.GetAsync($"buildByToken/status?job=p&token=secret&id={id}")).BodyAsync())!;
        Assert.Equal("waiting", waiting["state"]!.GetValue<string>());
        Assert.Equal("p", waiting["job"]!.GetValue<string>());
        Assert.Null(waiting["build"]);
        await valet.WaitForBuildAsync("job/p/", 1);
        var done = JsonNode.Parse(await (await valet.GetAsync($"buildByToken/status?job=p&token=secret&id={id}")).BodyAsync())!;
        Assert.Equal("left", done["state"]!.GetValue<string>());
        Assert.Equal(1, done["build"]!["number"]!.GetValue<int>());
        Assert.False(done["build"]!["building"]!.GetValue<bool>());
        Assert.Equal("SUCCESS", done["build"]!["result"]!.GetValue<string>());
        Assert.EndsWith("/job/p/1/", done["build"]!["url"]!.GetValue<string>());

        // Started and still running.
        using var held = await valet.GetAsync("buildByToken/build?job=serial&token=secret");
        await ValetProcess.WaitUntilAsync(async () => (await valet.Admin().GetAsync("job/serial/1/api/json")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "build 1 of serial");
        var running = JsonNode.Parse(await (await valet.GetAsync($"buildByToken/status?job=serial&token=secret&id={held.QueueId()}")).BodyAsync())!;
        Assert.Equal("left", running["state"]!.GetValue<string>());
        Assert.Equal(1, running["build"]!["number"]!.GetValue<int>());
        Assert.True(running["build"]!["building"]!.GetValue<bool>());
        Assert.Null(running["build"]!["result"]);
        await valet.Admin().PostAsync("job/serial/1/stop", null);
        await valet.WaitForBuildAsync("job/serial/", 1);
    }

    [Fact]
    public async Task Status_answers_cancelled_items_and_refuses_other_jobs_ids_and_bad_input()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-53
        using var queued = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=600sec");
        var id = queued.QueueId();
        await valet.Admin().PostAsync($"queue/cancelItem?id={id}", null);
        var cancelled = JsonNode.Parse(await (await valet.GetAsync($"buildByToken/status?job=p&token=secret&id={id}")).BodyAsync())!;
        Assert.Equal("cancelled", cancelled["state"]!.GetValue<string>());
        using var otherJob = await valet.GetAsync($"buildByToken/status?job=dir/p&token=secret&id={id}");
        using var unknown = await valet.GetAsync("buildByToken/status?job=p&token=secret&id=99999");
        otherJob.AssertStatus(HttpStatusCode.NotFound, "no-such-item");
        unknown.AssertStatus(HttpStatusCode.NotFound, "no-such-item");
        Assert.Equal(await otherJob.BodyAsync(), await unknown.BodyAsync());
        using var badId = await valet.GetAsync("buildByToken/status?job=p&token=secret&id=abc");
        badId.AssertStatus(HttpStatusCode.BadRequest, "bad-id");
        using var wrong = await valet.GetAsync($"buildByToken/status?job=p&token=nope&id={id}");
        wrong.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        using var none = await valet.GetAsync($"buildByToken/status?job=p&id={id}");
        none.AssertStatus(HttpStatusCode.Forbidden, "token-required");
    }

    [Fact]
    public async Task Refusals_are_text_by_default_and_problem_json_when_json_ranks_higher()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-54
        using var text = await valet.GetAsync("buildByToken/build?job=p&token=wrong");
        Assert.Equal("text/plain", text.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("bad-token", await text.BodyAsync());
        Assert.StartsWith("bad-token", text.Headers.GetValues("X-Error").Single());
        using var json = await valet.GetAsync("buildByToken/build?job=p&token=wrong", m => m.Accept("application/json"));
        Assert.Equal("application/problem+json", json.Content.Headers.ContentType!.MediaType);
        var problem = JsonNode.Parse(await json.BodyAsync())!;
        Assert.Equal(403, problem["status"]!.GetValue<int>());
        Assert.Equal("bad-token", problem["reason"]!.GetValue<string>());
        Assert.Equal("about:blank", problem["type"]!.GetValue<string>());
        using var html = await valet.GetAsync("buildByToken/build?job=p&token=wrong", m => m.Accept("text/html"));
        Assert.Equal("text/plain", html.Content.Headers.ContentType!.MediaType);
        using var textFirst = await valet.GetAsync("buildByToken/build?job=p&token=wrong", m => { m.Accept("text/plain"); m.Accept("application/json;q=0.5"); });
        Assert.Equal("text/plain", textFirst.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Every_rejection_writes_one_debug_line_and_no_log_holds_the_token()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config, new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Debug",
        });
        // TR-55
        await valet.GetAsync("buildByToken/build?job=p&token=secret");
        await valet.GetAsync("buildByToken/build?job=p&token=wrongvalue");
        await valet.GetAsync("buildByToken/build?job=nope&token=secret");
        await valet.GetAsync("buildByToken/build?job=q&token=secret", m => m.Headers.Add("X-Build-Token", "secret"));
        await valet.StopAsync();
        var logs = string.Concat(Directory.GetFiles(Path.Combine(valet.Home, "logs")).Select(File.ReadAllText));
        foreach (var output in new[] { valet.Output, logs })
        {
            Assert.DoesNotContain("secret", output);
            Assert.DoesNotContain("wrongvalue", output);
            var rejections = output.Split('\n').Where(l => l.Contains("Valet.Triggers.BuildByToken")).ToList();
            Assert.Equal(3, rejections.Count);
            Assert.Contains(rejections, l => l.Contains("bad-token"));
            Assert.Contains(rejections, l => l.Contains("no-such-job"));
            Assert.Contains(rejections, l => l.Contains("no-token"));
            Assert.Contains("token=***", output);
        }
    }

    [Fact]
    public async Task The_audit_log_records_accepted_and_rejected_requests_for_administrators_only()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-56
        using var accepted = await valet.GetAsync("buildByToken/build?job=p&token=secret", m => m.Headers.Add("Idempotency-Key", "audit-1"));
        await valet.GetAsync("buildByToken/build?job=p&token=wrong");
        var entries = (await valet.GetJsonAsync("audit/api/json"))["entries"]!.AsArray();
        Assert.Equal(2, entries.Count);
        var rejected = entries[0]!;
        Assert.Equal(403, rejected["status"]!.GetValue<int>());
        Assert.Equal("bad-token", rejected["reason"]!.GetValue<string>());
        Assert.Equal("build", rejected["endpoint"]!.GetValue<string>());
        Assert.Equal("p", rejected["job"]!.GetValue<string>());
        Assert.Equal("p", rejected["fullName"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", rejected["address"]!.GetValue<string>());
        Assert.Null(rejected["queueId"]);
        Assert.Null(rejected["tokenName"]);
        var ok = entries[1]!;
        Assert.Equal(201, ok["status"]!.GetValue<int>());
        Assert.Equal("build", ok["endpoint"]!.GetValue<string>());
        Assert.Equal("p", ok["job"]!.GetValue<string>());
        Assert.Equal("p", ok["fullName"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", ok["address"]!.GetValue<string>());
        Assert.Equal(accepted.QueueId(), ok["queueId"]!.GetValue<long>());
        Assert.Equal("audit-1", ok["idempotencyKey"]!.GetValue<string>());
        Assert.Equal("default", ok["tokenName"]!.GetValue<string>());
        Assert.True(ok["time"]!.GetValue<long>() > 0);
        Assert.DoesNotContain("secret", entries.ToJsonString());
        using var alice = await valet.SendAsync(HttpMethod.Get, "audit/api/json", client: valet.Client("alice", "alice-pw"));
        alice.AssertStatus(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_config_token_is_stored_hashed_and_generated_tokens_are_shown_once_and_work()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-57
        var admin = valet.Admin();
        using var created = await admin.PostAsync("job/p/tokens", new StringContent("""{"name":"ci"}""", System.Text.Encoding.UTF8, "application/json"));
        created.AssertStatus(HttpStatusCode.Created);
        var value = JsonNode.Parse(await created.BodyAsync())!["value"]!.GetValue<string>();
        Assert.Matches("^vlt_[A-Za-z0-9]{32}$", value);
        var listed = await valet.GetJsonAsync("job/p/tokens/api/json");
        Assert.Equal(["ci", "default"], listed["tokens"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).Order());
        Assert.DoesNotContain(value, listed.ToJsonString());
        using var taken = await admin.PostAsync("job/p/tokens", new StringContent("""{"name":"ci"}""", System.Text.Encoding.UTF8, "application/json"));
        taken.AssertStatus(HttpStatusCode.Conflict);
        using var byGenerated = await valet.GetAsync($"buildByToken/build?job=p&token={value}");
        byGenerated.AssertStatus(HttpStatusCode.Created);
        await valet.StopAsync();
        foreach (var file in Directory.EnumerateFiles(valet.Home, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllText(file);
            Assert.DoesNotContain("secret", bytes);
            Assert.DoesNotContain(value, bytes);
        }
    }

    [Fact]
    public async Task Revoked_and_expired_tokens_stop_working_and_use_is_recorded()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-58
        var admin = valet.Admin();
        async Task<string> CreateAsync(string json)
        {
            using var r = await admin.PostAsync("job/p/tokens", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
            r.AssertStatus(HttpStatusCode.Created);
            return JsonNode.Parse(await r.BodyAsync())!["value"]!.GetValue<string>();
        }
        var second = await CreateAsync("""{"name":"second"}""");
        var soon = await CreateAsync($$"""{"name":"soon","expiresAt":{{TimeProvider.System.GetUtcNow().AddSeconds(6).ToUnixTimeMilliseconds()}}}""");
        using var revoke = await admin.PostAsync("job/p/tokens/second/revoke", null);
        revoke.AssertStatus(HttpStatusCode.NoContent);
        using var revoked = await valet.GetAsync($"buildByToken/build?job=p&token={second}");
        revoked.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        await ValetProcess.WaitUntilAsync(async () =>
        {
            using var r = await valet.GetAsync($"buildByToken/build?job=p&token={soon}&delay=600sec");
            return r.StatusCode == HttpStatusCode.Forbidden;
        }, TimeSpan.FromSeconds(30), "the token to expire");
        using var unknown = await admin.PostAsync("job/p/tokens/nope/revoke", null);
        unknown.AssertStatus(HttpStatusCode.NotFound);

        // The expiring token queued an item while it still worked: cancelled, so that this is a 201.
        foreach (var item in await valet.QueueItemsAsync())
            await admin.PostAsync($"queue/cancelItem?id={item!["id"]}", null);
        var sent = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        using var ok = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=600sec");
        ok.AssertStatus(HttpStatusCode.Created);
        await ValetProcess.WaitUntilAsync(async () =>
        {
            var tokens = (await valet.GetJsonAsync("job/p/tokens/api/json"))["tokens"]!.AsArray();
            var used = tokens.Single(t => t!["name"]!.GetValue<string>() == "default")!;
            return used["lastUsedAt"]?.GetValue<long>() >= sent && used["lastUsedAddress"]!.GetValue<string>() == "127.0.0.1";
        }, TimeSpan.FromSeconds(5), "last use to be recorded");

        // The sole active token revoked: the job answers like one without a token. (A job made
        // through the API: the config file manages p's token named default.)
        using var made = await admin.PutAsync("job/solo/config.json", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        made.AssertStatus(HttpStatusCode.Created);
        using var only = await admin.PostAsync("job/solo/tokens", new StringContent("""{"name":"only"}""", System.Text.Encoding.UTF8, "application/json"));
        var onlyValue = JsonNode.Parse(await only.BodyAsync())!["value"]!.GetValue<string>();
        using var revokeOnly = await admin.PostAsync("job/solo/tokens/only/revoke", null);
        revokeOnly.AssertStatus(HttpStatusCode.NoContent);
        using var gone = await valet.GetAsync($"buildByToken/build?job=solo&token={onlyValue}");
        gone.AssertStatus(HttpStatusCode.NotFound, "no-such-job");
    }
}
