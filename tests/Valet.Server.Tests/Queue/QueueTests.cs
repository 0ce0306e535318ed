using System.Net;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Queue;

public sealed class QueueTests
{
    const string Config = """
        server:
          executors: 1
          quietPeriod: 60
        jobs:
          - name: p
            steps:
              - sh: echo p
          - name: q
            parameters:
              - { type: string, name: P, default: d }
            steps:
              - sh: echo $P
          - name: serial
            quietPeriod: 0
            steps:
              - sh: sleep 300
        """;

    static async Task<HttpResponseMessage> PostAsync(ValetProcess valet, string path) => await valet.Admin().PostAsync(path, null);

    [Fact]
    public async Task A_second_trigger_in_the_quiet_period_folds_into_the_waiting_item()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var first = await PostAsync(valet, "job/p/build");
        using var second = await PostAsync(valet, "job/p/build");
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        var item = await valet.GetJsonAsync(first.Headers.Location!.AbsolutePath.TrimStart('/') + "api/json");
        Assert.Equal("hudson.model.Queue$WaitingItem", item["_class"]!.GetValue<string>());
        Assert.StartsWith("In the quiet period. Expires in", item["why"]!.GetValue<string>());
        var causes = item["actions"]!.AsArray().Single(a => a!["_class"]!.GetValue<string>() == "hudson.model.CauseAction")!["causes"]!.AsArray();
        Assert.Equal(2, causes.Count);
        var queue = await valet.GetJsonAsync("queue/api/json");
        Assert.Single(queue["items"]!.AsArray());
    }

    [Fact]
    public async Task Parameterized_items_fold_only_with_identical_values()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var a = await PostAsync(valet, "job/q/buildWithParameters?P=x");
        using var again = await PostAsync(valet, "job/q/buildWithParameters?P=x");
        using var other = await PostAsync(valet, "job/q/buildWithParameters?P=y");
        Assert.Equal(HttpStatusCode.Created, a.StatusCode);
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.Equal(a.Headers.Location, again.Headers.Location);
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        Assert.NotEqual(a.Headers.Location, other.Headers.Location);
    }

    [Fact]
    public async Task An_earlier_delay_moves_the_item_earlier_and_a_later_one_never_moves_it_later()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var first = await PostAsync(valet, "job/p/build?delay=600sec");
        var path = first.Headers.Location!.AbsolutePath.TrimStart('/') + "api/json";
        var due = (await valet.GetJsonAsync(path))["timestamp"]!.GetValue<long>();
        using var later = await PostAsync(valet, "job/p/build?delay=900sec");
        Assert.Equal(due, (await valet.GetJsonAsync(path))["timestamp"]!.GetValue<long>());
        using var sooner = await PostAsync(valet, "job/p/build?delay=300sec");
        Assert.True((await valet.GetJsonAsync(path))["timestamp"]!.GetValue<long>() < due - 200_000);
    }

    [Fact]
    public async Task Cancel_removes_the_item_and_it_shows_as_cancelled()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var queued = await PostAsync(valet, "job/p/build");
        var id = queued.Headers.Location!.AbsolutePath.TrimEnd('/').Split('/')[^1];
        using var get = await valet.Admin().GetAsync($"queue/cancelItem?id={id}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using var cancel = await PostAsync(valet, $"queue/cancelItem?id={id}");
        Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        Assert.EndsWith($"/queue/item/{id}/", cancel.Headers.Location!.ToString());
        var item = await valet.GetJsonAsync($"queue/item/{id}/api/json");
        Assert.Equal("hudson.model.Queue$LeftItem", item["_class"]!.GetValue<string>());
        Assert.True(item["cancelled"]!.GetValue<bool>());
        Assert.Null(item["executable"]);
        using var again = await PostAsync(valet, $"queue/cancelItem?id={id}");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var unknown = await PostAsync(valet, "queue/cancelItem?id=99999");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_job_without_concurrent_builds_blocks_its_next_item_while_one_runs()
    {
        await using var valet = await ValetProcess.StartAsync(Config.Replace("executors: 1", "executors: 2"));
        using var first = await PostAsync(valet, "job/serial/build");
        await ValetProcess.WaitUntilAsync(async () => (await valet.Admin().GetAsync("job/serial/1/api/json")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "build 1");
        using var second = await PostAsync(valet, "job/serial/build");
        Assert.NotEqual(first.Headers.Location, second.Headers.Location);
        var path = second.Headers.Location!.AbsolutePath.TrimStart('/') + "api/json";
        await ValetProcess.WaitUntilAsync(async () => (await valet.GetJsonAsync(path))["_class"]!.GetValue<string>() == "hudson.model.Queue$BlockedItem", TimeSpan.FromSeconds(10), "blocked");
        Assert.Equal("Build #1 is already in progress", (await valet.GetJsonAsync(path))["why"]!.GetValue<string>());
        // A third request folds into the blocked item.
        using var third = await PostAsync(valet, "job/serial/build");
        Assert.Equal(second.Headers.Location, third.Headers.Location);
        await valet.Admin().PostAsync("job/serial/1/stop", null);
        await ValetProcess.WaitUntilAsync(async () => (await valet.GetJsonAsync(path))["_class"]!.GetValue<string>() == "hudson.model.Queue$LeftItem", TimeSpan.FromSeconds(30), "build 2 to start");
        var left = await valet.GetJsonAsync(path);
        Assert.Equal(2, left["executable"]!["number"]!.GetValue<int>());
    }
}
