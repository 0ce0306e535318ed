using System.Net;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §1: server.maxQueuedPerJob, step 15 of build-token-root.md §3.</summary>
public sealed class QueueLimitTests
{
    const string Config = """
        server:
          quietPeriod: 600
          maxQueuedPerJob: 2
        security:
          permissions:
            admin: [Overall/Administer]
            anonymous: []
        jobs:
          - name: w
            authToken: secret
            parameters:
              - { type: string, name: P }
        """;

    [Fact]
    public async Task A_job_at_its_queue_limit_answers_503_queue_full_with_retry_after_and_still_folds()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var client = valet.Anonymous();
        for (var i = 1; i <= 2; i++)
        {
            using var queued = await client.PostAsync($"buildByToken/buildWithParameters?job=w&token=secret&P={i}", null);
            queued.AssertStatus(HttpStatusCode.Created);
        }
        using var full = await client.PostAsync("buildByToken/buildWithParameters?job=w&token=secret&P=3", null);
        full.AssertStatus(HttpStatusCode.ServiceUnavailable, "queue-full");
        Assert.Equal(TimeSpan.FromSeconds(60), full.Headers.RetryAfter!.Delta);
        using var keyed = new HttpRequestMessage(HttpMethod.Post, "buildByToken/buildWithParameters?job=w&token=secret&P=4");
        keyed.Headers.Add("Idempotency-Key", "k-1");
        using var keyedFull = await client.SendAsync(keyed);
        keyedFull.AssertStatus(HttpStatusCode.ServiceUnavailable, "queue-full");
        using var core = await valet.Admin().PostAsync("job/w/buildWithParameters?P=5", null);
        core.AssertStatus(HttpStatusCode.ServiceUnavailable, "queue-full");
        Assert.Equal(TimeSpan.FromSeconds(60), core.Headers.RetryAfter!.Delta);
        using var fold = await client.PostAsync("buildByToken/buildWithParameters?job=w&token=secret&P=1", null);
        fold.AssertStatus(HttpStatusCode.SeeOther);
        Assert.Equal(2, (await valet.QueueItemsAsync()).Count);
    }
}
