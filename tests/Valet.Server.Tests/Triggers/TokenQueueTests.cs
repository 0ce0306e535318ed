using System.Net;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>TR-5, TR-10, TR-11, TR-32…39: folding, delays, causes, client address.</summary>
public sealed class TokenQueueTests
{
    static JsonArray Causes(JsonNode item) =>
        item["actions"]!.AsArray().Single(a => a!["_class"]!.GetValue<string>() == "hudson.model.CauseAction")!["causes"]!.AsArray();

    [Fact]
    public async Task A_blocked_second_build_folds_further_requests_and_exactly_two_builds_run()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-5 (with a freestyle job until pipelines run)
        using var first = await valet.GetAsync("buildByToken/build?job=serial&token=secret");
        first.AssertStatus(HttpStatusCode.Created);
        await ValetProcess.WaitUntilAsync(async () => (await valet.Admin().GetAsync("job/serial/1/api/json")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "build 1");
        using var second = await valet.GetAsync("buildByToken/build?job=serial&token=secret");
        second.AssertStatus(HttpStatusCode.Created);
        await ValetProcess.WaitUntilAsync(async () => (await valet.QueueItemAsync(second.QueueId()))["_class"]!.GetValue<string>().EndsWith("BlockedItem"), TimeSpan.FromSeconds(10), "blocked");
        using var third = await valet.GetAsync("buildByToken/build?job=serial&token=secret");
        third.AssertStatus(HttpStatusCode.SeeOther);
        Assert.EndsWith($"/queue/item/{second.QueueId()}/", third.Headers.Location!.ToString());
        await valet.Admin().PostAsync("job/serial/1/stop", null);
        await ValetProcess.WaitUntilAsync(async () => (await valet.Admin().GetAsync("job/serial/2/api/json")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "build 2");
        await valet.Admin().PostAsync("job/serial/2/stop", null);
        await valet.WaitForBuildAsync("job/serial/", 2);
        Assert.Equal(2, (await valet.GetJsonAsync("job/serial/api/json"))["builds"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_fold_answers_303_to_the_item_at_the_root_url()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config.Replace("quietPeriod: 5\n", "quietPeriod: 5\n  rootUrl: https://ci.example.com/\n"));
        // TR-10
        using var first = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=10sec");
        first.AssertStatus(HttpStatusCode.Created);
        using var second = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=10sec");
        second.AssertStatus(HttpStatusCode.SeeOther);
        Assert.Equal($"https://ci.example.com/queue/item/{first.QueueId()}/", second.Headers.Location!.ToString());
        Assert.Single(await valet.QueueItemsAsync());
    }

    [Fact]
    public async Task Without_a_root_url_the_303_uses_the_request_host()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-11
        using var first = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=10sec");
        using var second = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=10sec", m => m.Headers.Host = "ci.test:8081");
        second.AssertStatus(HttpStatusCode.SeeOther);
        Assert.Equal($"http://ci.test:8081/queue/item/{first.QueueId()}/", second.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Equal_remote_causes_are_counted_and_a_note_adds_a_distinct_cause()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-32, TR-38
        using var first = await valet.GetAsync("buildByToken/build?job=p&token=secret");
        await valet.GetAsync("buildByToken/build?job=p&token=secret");
        await valet.GetAsync("buildByToken/build?job=p&token=secret&cause=hello");
        var causes = Causes(await valet.QueueItemAsync(first.QueueId()));
        Assert.Equal(3, causes.Count);
        Assert.Equal("hudson.model.Cause$RemoteCause", causes[0]!["_class"]!.GetValue<string>());
        Assert.Equal("Started by remote host 127.0.0.1", causes[0]!["shortDescription"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", causes[0]!["addr"]!.GetValue<string>());
        Assert.Null(causes[0]!["note"]);
        Assert.Equal(causes[0]!.ToJsonString(), causes[1]!.ToJsonString());
        Assert.Equal("Started by remote host 127.0.0.1 with note: hello", causes[2]!["shortDescription"]!.GetValue<string>());
        Assert.Equal("hello", causes[2]!["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_earlier_delay_moves_the_waiting_item_and_a_later_one_does_not()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-33
        using var first = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=60sec");
        var due = (await valet.QueueItemAsync(first.QueueId()))["timestamp"]!.GetValue<long>();
        using var later = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=120sec");
        later.AssertStatus(HttpStatusCode.SeeOther);
        Assert.Equal(due, (await valet.QueueItemAsync(first.QueueId()))["timestamp"]!.GetValue<long>());
        var soonerSent = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        using var sooner = await valet.GetAsync("buildByToken/build?job=p&token=secret&delay=0sec");
        sooner.AssertStatus(HttpStatusCode.SeeOther);
        var build = await valet.WaitForBuildAsync("job/p/", 1);
        Assert.Equal(first.QueueId(), build["queueId"]!.GetValue<long>());
        // Due now: the build started at once, not when the first delay ran out.
        Assert.InRange(build["timestamp"]!.GetValue<long>() - soonerSent, 0, 10_000);
    }

    [Fact]
    public async Task An_item_queued_by_a_user_takes_the_token_request_as_a_fold()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-34 (an item queued by an authenticated user stands in for a timer's)
        using var byUser = await valet.Admin().PostAsync("job/p/build", null);
        byUser.AssertStatus(HttpStatusCode.Created);
        using var byToken = await valet.GetAsync("buildByToken/build?job=p&token=secret");
        byToken.AssertStatus(HttpStatusCode.SeeOther);
        Assert.EndsWith($"/queue/item/{byUser.QueueId()}/", byToken.Headers.Location!.ToString());
    }

    [Theory]
    [InlineData("now", null, 0)]
    [InlineData("p", null, 5)]
    [InlineData("p", "%205%20secs%20", 5)]
    [InlineData("p", "10", 0)]
    [InlineData("p", "1500", 1)]
    [InlineData("p", "-5sec", 0)]
    [InlineData("p", "%2B5sec", 5)]
    public async Task The_delay_or_the_quiet_period_sets_the_due_time(string job, string? delay, int seconds)
    {
        // One executor, kept busy, so the item stays in the queue where its due time can be read.
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config.Replace("executors: 2", "executors: 1"));
        await valet.GetAsync("buildByToken/build?job=serial&token=secret");
        await ValetProcess.WaitUntilAsync(async () => (await valet.Admin().GetAsync("job/serial/1/api/json")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "the executor to be busy");
        // TR-35, TR-36
        using var response = await valet.GetAsync($"buildByToken/build?job={job}&token=secret" + (delay is null ? "" : $"&delay={delay}"));
        response.AssertStatus(HttpStatusCode.Created);
        var item = await valet.QueueItemAsync(response.QueueId());
        var due = item["timestamp"]?.GetValue<long>() ?? item["buildableStartMilliseconds"]!.GetValue<long>();
        Assert.InRange(due - item["inQueueSince"]!.GetValue<long>(), seconds * 1000 - 50, seconds * 1000 + 50);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("10s")]
    [InlineData("10SEC")]
    [InlineData("1.5sec")]
    [InlineData("10min")]
    public async Task A_malformed_delay_is_400_before_the_job_or_token_is_looked_at(string delay)
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-37
        foreach (var query in new[] { "job=p&token=secret", "job=nope&token=secret", "job=p&token=wrong" })
        {
            using var r = await valet.GetAsync($"buildByToken/build?{query}&delay={delay}");
            r.AssertStatus(HttpStatusCode.BadRequest, "bad-delay");
        }
        Assert.Empty(await valet.QueueItemsAsync());
    }

    [Fact]
    public async Task A_trusted_proxy_forwards_the_client_address_and_an_untrusted_peer_does_not()
    {
        // TR-39
        await using var trusted = await ValetProcess.StartAsync(TokenSetup.Config.Replace("quietPeriod: 5\n", "quietPeriod: 5\n  trustedProxies: [127.0.0.1]\n"));
        using var viaProxy = await trusted.GetAsync("buildByToken/build?job=p&token=secret", m => m.Headers.Add("X-Forwarded-For", "198.51.100.1, 203.0.113.9"));
        Assert.Equal("203.0.113.9", Causes(await trusted.QueueItemAsync(viaProxy.QueueId()))[0]!["addr"]!.GetValue<string>());

        await using var untrusted = await ValetProcess.StartAsync(TokenSetup.Config);
        using var direct = await untrusted.GetAsync("buildByToken/build?job=p&token=secret", m => m.Headers.Add("X-Forwarded-For", "203.0.113.9"));
        Assert.Equal("127.0.0.1", Causes(await untrusted.QueueItemAsync(direct.QueueId()))[0]!["addr"]!.GetValue<string>());
    }
}
