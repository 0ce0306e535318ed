using System.Diagnostics;
using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §1 through real HTTP: nothing a request sends costs more than its size.</summary>
public sealed class InputLimitTests
{
    [Fact]
    public async Task An_anonymous_exponential_xpath_answers_400_quickly_and_leaves_the_cpu_quiet()
    {
        await using var valet = await ValetProcess.StartAsync();
        var xpath = "count(//*[count(//*[count(//*[count(//*[count(//*[count(//*[count(//*[count(//*)])])])])])])])";
        var clock = Stopwatch.StartNew();
        using var response = await valet.Anonymous().GetAsync("whoAmI/api/xml?xpath=" + Uri.EscapeDataString(xpath));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("xpath-too-expensive", response.Headers.GetValues("X-Error").Single());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        var before = valet.CpuTime();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(valet.CpuTime() - before < TimeSpan.FromSeconds(1), "the server kept a core busy after answering");
    }

    [Theory]
    [InlineData("tree=" + "a%5B" + "a%5Ba%5Ba%5Ba%5Ba%5Ba%5Ba%5Ba%5Ba%5Ba%5Bb" + "%5D%5D%5D%5D%5D%5D%5D%5D%5D%5D%5D")]
    [InlineData("xpath=")]
    public async Task Overlong_or_too_deep_tree_and_xpath_answer_400(string query)
    {
        await using var valet = await ValetProcess.StartAsync();
        if (query == "xpath=")
            query += new string('/', 1025);
        using var response = await valet.Anonymous().GetAsync((query.StartsWith("tree", StringComparison.Ordinal) ? "whoAmI/api/json?" : "whoAmI/api/xml?") + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}

public sealed class JobNameLimitTests
{
    static async Task<string> NotFoundBytesAsync(HttpResponseMessage r) =>
        (int)r.StatusCode + await r.Content.ReadAsStringAsync() + r.Content.Headers.ContentType + string.Join(",", r.Headers.GetValues("X-Error"));

    static Task<HttpResponseMessage> PostBuildAsync(ValetProcess valet, string job) =>
        valet.Anonymous().PostAsync("buildByToken/build", new FormUrlEncodedContent(new Dictionary<string, string> { ["job"] = job, ["token"] = "secret" }));

    [Fact]
    public async Task A_job_of_30000_segments_is_the_unknown_job_404_at_once_and_queues_nothing()
    {
        await using var valet = await ValetProcess.StartAsync(Triggers.TokenSetup.Config);
        using var unknown = await PostBuildAsync(valet, "nope");
        var clock = Stopwatch.StartNew();
        using var huge = await PostBuildAsync(valet, string.Join('/', Enumerable.Repeat("a", 30_000)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(await NotFoundBytesAsync(unknown), await NotFoundBytesAsync(huge));
        Assert.Empty((await valet.GetJsonAsync("queue/api/json"))["items"]!.AsArray());
    }

    [Fact]
    public async Task A_job_name_over_4096_characters_or_64_segments_is_unknown_even_when_it_would_resolve()
    {
        await using var valet = await ValetProcess.StartAsync(Triggers.TokenSetup.Config);
        using var unknown = await PostBuildAsync(valet, "nope");
        using var padded = await PostBuildAsync(valet, "a/b/" + new string('/', 4093) + "c");
        Assert.Equal(await NotFoundBytesAsync(unknown), await NotFoundBytesAsync(padded));
        Assert.Empty((await valet.GetJsonAsync("queue/api/json"))["items"]!.AsArray());
        using var within = await PostBuildAsync(valet, "a/b/" + new string('/', 4000) + "c");
        Assert.Equal(HttpStatusCode.Created, within.StatusCode);
    }
}
