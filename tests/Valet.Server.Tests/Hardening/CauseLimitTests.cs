using System.Net;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §1: at most 100 distinct causes are stored on one queue item; the rest are counted.</summary>
public sealed class CauseLimitTests
{
    const string Config = """
        server:
          quietPeriod: 600
        security:
          permissions:
            admin: [Overall/Administer]
            anonymous: []
        jobs:
          - name: w
            authToken: secret
            steps:
              - sh: echo w
        """;

    static JsonArray Causes(JsonNode item) =>
        item["actions"]!.AsArray().Single(a => a!["_class"]!.GetValue<string>() == "hudson.model.CauseAction")!["causes"]!.AsArray();

    [Fact]
    public async Task Distinct_causes_past_100_still_fold_with_303_and_are_only_counted_as_droppedCauses()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var client = valet.Anonymous();
        using var first = await client.GetAsync("buildByToken/build?job=w&token=secret&cause=c0");
        first.AssertStatus(HttpStatusCode.Created);
        var id = first.QueueId();
        for (var i = 1; i < 100; i++)
        {
            using var fold = await client.GetAsync($"buildByToken/build?job=w&token=secret&cause=c{i}");
            fold.AssertStatus(HttpStatusCode.SeeOther);
            Assert.Equal(id, fold.QueueId());
        }
        Assert.Null((await valet.QueueItemAsync(id))["droppedCauses"]);

        // Past the 100th: sequentially, then 30 at once (a write that folds many requests together),
        // then equal causes, which are no new distinct causes: one kept (counted on it) and one dropped
        // (counted again: a dropped cause is not kept to compare with).
        for (var i = 100; i < 110; i++)
        {
            using var fold = await client.GetAsync($"buildByToken/build?job=w&token=secret&cause=c{i}");
            fold.AssertStatus(HttpStatusCode.SeeOther);
            Assert.Equal(id, fold.QueueId());
        }
        var together = await Task.WhenAll(Enumerable.Range(110, 30).Select(i => client.GetAsync($"buildByToken/build?job=w&token=secret&cause=c{i}")));
        foreach (var fold in together)
        {
            fold.AssertStatus(HttpStatusCode.SeeOther);
            Assert.Equal(id, fold.QueueId());
            fold.Dispose();
        }
        using (var kept = await client.GetAsync("buildByToken/build?job=w&token=secret&cause=c7"))
            kept.AssertStatus(HttpStatusCode.SeeOther);
        using (var dropped = await client.GetAsync("buildByToken/build?job=w&token=secret&cause=c105"))
            dropped.AssertStatus(HttpStatusCode.SeeOther);

        var item = await valet.QueueItemAsync(id);
        var causes = Causes(item);
        Assert.Equal(101, causes.Count);
        var notes = causes.Select(c => c!["note"]!.GetValue<string>()).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"c{i}").ToHashSet(), notes.ToHashSet());
        Assert.Equal(2, notes.Count(n => n == "c7"));
        Assert.Equal(41, item["droppedCauses"]!.GetValue<int>());

        var listed = Assert.Single(await valet.QueueItemsAsync());
        Assert.Equal(41, listed!["droppedCauses"]!.GetValue<int>());
        Assert.Equal(101, Causes(listed).Count);
    }
}
