using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>`/job/…/polling` as Jenkins core answers it (remote-api.md §3, RA-36).</summary>
public sealed class PollingTests
{
    const string Config = """
        jobs:
          - name: p
            authToken: poll-token-3x
            steps:
              - sh: echo p
        """;

    [Fact]
    public async Task Polling_redirects_to_the_job_and_queues_no_build()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var response = await valet.Admin().PostAsync("job/p/polling", null);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(valet.BaseAddress + "job/p/", response.Headers.Location!.ToString());
        var queue = await valet.GetJsonAsync("queue/api/json");
        Assert.Empty(queue["items"]!.AsArray());
    }

    [Fact]
    public async Task Polling_with_a_wrong_token_is_refused_and_a_get_without_one_needs_post()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var wrong = await valet.Admin().PostAsync("job/p/polling?token=wrong", null);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        using var get = await valet.Admin().GetAsync("job/p/polling");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("POST", get.Content.Headers.Allow.Single());
        using var right = await valet.Admin().GetAsync("job/p/polling?token=poll-token-3x");
        Assert.Equal(HttpStatusCode.Found, right.StatusCode);
        Assert.Empty((await valet.GetJsonAsync("queue/api/json"))["items"]!.AsArray());
    }
}
