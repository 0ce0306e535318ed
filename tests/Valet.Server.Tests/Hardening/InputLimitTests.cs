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
