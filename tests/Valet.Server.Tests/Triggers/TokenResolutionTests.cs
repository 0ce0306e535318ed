using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>
/// TR-1…4, TR-6 (TR-1…4 again, with a freestyle job until pipelines run), TR-8, TR-9, TR-12…23: answers,
/// job resolution and token checks.
/// </summary>
public sealed class TokenResolutionTests
{
    static async Task<int> BuildCountAsync(ValetProcess valet, string jobPath) =>
        (await valet.GetJsonAsync($"{jobPath}api/json"))["builds"]!.AsArray().Count;

    [Theory]
    [InlineData("p", "job/p/")]
    [InlineData("dir/p", "job/dir/job/p/")]
    public async Task The_upstream_build_scenario_holds_for_top_level_and_folder_jobs(string job, string jobPath)
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-1: the core URL refuses an anonymous caller before looking at the token.
        using var core = await valet.GetAsync($"{jobPath}build?token=secret");
        core.AssertStatus(HttpStatusCode.Forbidden);
        Assert.Empty(await valet.QueueItemsAsync());

        // TR-2
        using var first = await valet.GetAsync($"buildByToken/build?job={job}&token=secret&delay=0sec");
        first.AssertStatus(HttpStatusCode.Created);
        Assert.Equal("", await first.BodyAsync());
        Assert.Matches(@"^/queue/item/\d+/$", first.Headers.Location!.OriginalString);
        await valet.WaitForBuildAsync(jobPath, 1);

        // TR-3
        using var second = await valet.GetAsync($"buildByToken/build?job={job}&token=secret&delay=0sec");
        second.AssertStatus(HttpStatusCode.Created);
        Assert.True(second.QueueId() > first.QueueId());
        await valet.WaitForBuildAsync(jobPath, 2);

        // TR-4
        using var wrong = await valet.GetAsync($"buildByToken/build?job={job}&token=socket&delay=0sec");
        wrong.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        Assert.Empty(await valet.QueueItemsAsync());
        Assert.Equal(2, await BuildCountAsync(valet, jobPath));
    }

    [Fact]
    public async Task A_form_post_without_crumb_or_cookie_triggers_the_build()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-9
        using var response = await valet.Anonymous().PostAsync("buildByToken/build",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["job"] = "p", ["token"] = "secret", ["delay"] = "0sec" }));
        response.AssertStatus(HttpStatusCode.Created);
        Assert.NotNull(response.Headers.Location);
        await valet.WaitForBuildAsync("job/p/", 1);
        Assert.Empty(await valet.QueueItemsAsync());
        Assert.Equal(1, await BuildCountAsync(valet, "job/p/"));
    }

    [Fact]
    public async Task Wrong_tokens_are_403_even_for_an_admin_and_never_echo_the_token()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-12
        foreach (var token in new[] { "SECRET", "" })
        {
            using var r = await valet.GetAsync($"buildByToken/build?job=p&token={token}");
            r.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        }
        // TR-13
        using var admin = await valet.SendAsync(HttpMethod.Get, "buildByToken/build?job=p&token=wrong", client: valet.Admin());
        admin.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        Assert.DoesNotContain("wrong", await admin.BodyAsync());
        Assert.Null(admin.Headers.Location);
        Assert.Empty(await valet.QueueItemsAsync());
    }

    [Fact]
    public async Task Unknown_jobs_jobs_without_token_and_folders_answer_the_same_404_bytes()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        foreach (var accept in new[] { (string?)null, "application/json" })
        {
            var bodies = new List<string>();
            // TR-14, TR-15
            foreach (var job in new[] { "nope", "q", "dir" })
            {
                using var r = await valet.GetAsync($"buildByToken/build?job={job}&token=secret", m => { if (accept is not null) m.Accept(accept); });
                r.AssertStatus(HttpStatusCode.NotFound, "no-such-job");
                bodies.Add(await r.BodyAsync() + r.Content.Headers.ContentType + string.Join(",", r.Headers.GetValues("X-Error")));
            }
            Assert.Single(bodies.Distinct());
        }
        // TR-16
        using var adminPost = await valet.SendAsync(HttpMethod.Post, "buildByToken/build?job=q", client: valet.Admin());
        adminPost.AssertStatus(HttpStatusCode.NotFound, "no-such-job");
    }

    [Fact]
    public async Task Job_names_resolve_by_full_name_ignoring_case_and_empty_segments()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-17
        using var missing = await valet.GetAsync("buildByToken/build?token=secret");
        missing.AssertStatus(HttpStatusCode.BadRequest, "missing-job");
        foreach (var job in new[] { "", "//" })
        {
            using var r = await valet.GetAsync($"buildByToken/build?job={job}&token=secret");
            r.AssertStatus(HttpStatusCode.NotFound, "no-such-job");
        }
        // TR-18
        using var messy = await valet.GetAsync("buildByToken/build?job=/DIR//P/&token=secret");
        messy.AssertStatus(HttpStatusCode.Created);
        using var foldsIntoMessy = await valet.GetAsync("buildByToken/build?job=dir%2Fp&token=secret");
        foldsIntoMessy.AssertStatus(HttpStatusCode.SeeOther);
        Assert.EndsWith($"/queue/item/{messy.QueueId()}/", foldsIntoMessy.Headers.Location!.ToString());
        // With nothing to fold into, the encoded name queues dir/p on its own.
        using var cancel = await valet.Admin().PostAsync($"queue/cancelItem?id={messy.QueueId()}", null);
        using var encoded = await valet.GetAsync("buildByToken/build?job=dir%2Fp&token=secret");
        encoded.AssertStatus(HttpStatusCode.Created);
        Assert.EndsWith("/job/dir/job/p/", (await valet.QueueItemAsync(encoded.QueueId()))["task"]!["url"]!.GetValue<string>());
        using var leaf = await valet.GetAsync("buildByToken/build?job=c&token=secret");
        leaf.AssertStatus(HttpStatusCode.NotFound);
        // TR-19
        using var deep = await valet.GetAsync("buildByToken/build?job=a/b/c&token=secret");
        deep.AssertStatus(HttpStatusCode.Created);
        foreach (var job in new[] { "a/b", "a/b/c/d" })
        {
            using var r = await valet.GetAsync($"buildByToken/build?job={job}&token=secret");
            r.AssertStatus(HttpStatusCode.NotFound, "no-such-job");
        }
        // TR-20: a job in a folder anonymous cannot read.
        using var hidden = await valet.GetAsync("buildByToken/build?job=hidden/deep&token=secret");
        hidden.AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Disabled_jobs_and_the_wrong_endpoint_are_refused_after_the_token_check()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-21
        using var disabled = await valet.GetAsync("buildByToken/build?job=off&token=secret");
        disabled.AssertStatus(HttpStatusCode.BadRequest, "disabled");
        using var disabledWrong = await valet.GetAsync("buildByToken/build?job=off&token=nope");
        disabledWrong.AssertStatus(HttpStatusCode.Forbidden, "bad-token");
        using var disabledNoToken = await valet.GetAsync("buildByToken/build?job=offnotoken&token=secret");
        disabledNoToken.AssertStatus(HttpStatusCode.NotFound);
        // TR-22
        using var parameterized = await valet.GetAsync("buildByToken/build?job=withparams&token=secret");
        parameterized.AssertStatus(HttpStatusCode.BadRequest, "wrong-endpoint");
        Assert.Contains("buildWithParameters", await parameterized.BodyAsync());
        using var parameterizedWrong = await valet.GetAsync("buildByToken/build?job=withparams&token=nope");
        parameterizedWrong.AssertStatus(HttpStatusCode.Forbidden);
        // TR-23
        using var plain = await valet.GetAsync("buildByToken/buildWithParameters?job=p&token=secret");
        plain.AssertStatus(HttpStatusCode.BadRequest, "wrong-endpoint");
        Assert.Equal("wrong-endpoint: p has no parameters: use /buildByToken/build\n", await plain.BodyAsync());
        Assert.Empty(await valet.QueueItemsAsync());
    }

    [Fact]
    public async Task Other_paths_under_buildByToken_are_404()
    {
        await using var valet = await ValetProcess.StartAsync(TokenSetup.Config);
        // TR-60
        using var other = await valet.GetAsync("buildByToken/other?job=p&token=secret");
        other.AssertStatus(HttpStatusCode.NotFound);
        using var nested = await valet.GetAsync("buildByToken/build/more?job=p&token=secret");
        nested.AssertStatus(HttpStatusCode.NotFound);
        Assert.Empty(await valet.QueueItemsAsync());
    }
}
