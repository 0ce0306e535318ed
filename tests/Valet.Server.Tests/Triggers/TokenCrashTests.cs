using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>"Acknowledged means stored": the server process dies in the middle of a burst of token triggers.</summary>
public sealed class TokenCrashTests
{
    const string Config = """
        server:
          executors: 1
          quietPeriod: 3600
        jobs:
          - name: fold
            authToken: secret
          - name: params
            authToken: secret
            parameters:
              - { type: string, name: v }
        """;

    const int Clients = 16;

    [Fact]
    public async Task A_crash_during_a_burst_loses_no_answered_item_and_at_most_a_second_of_fold_counts()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var created = new ConcurrentDictionary<long, string>();
        var foldItems = new ConcurrentBag<long>();
        var folds = 0;
        // When each 303 was answered: a fold's count may trail its answer by up to a second (build-token-root.md §6).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var foldsAnswered = new ConcurrentBag<TimeSpan>();
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            using var http = valet.Anonymous();
            // Each client ends at its first request the dead server cannot answer.
            for (var i = 0; ; i++)
            {
                var value = $"c{c}-{i}";
                var path = i % 2 == 0
                    ? $"buildByToken/buildWithParameters?job=params&token=secret&v={value}"
                    : "buildByToken/build?job=fold&token=secret";
                HttpResponseMessage response;
                try
                {
                    response = await http.GetAsync(path);
                }
                catch (HttpRequestException)
                {
                    return;
                }
                using (response)
                {
                    switch (response.StatusCode, i % 2)
                    {
                        case (HttpStatusCode.Created, 0):
                            created[response.QueueId()] = value;
                            break;
                        case (HttpStatusCode.Created, 1):
                            foldItems.Add(response.QueueId());
                            break;
                        case (HttpStatusCode.SeeOther, 1):
                            foldsAnswered.Add(clock.Elapsed);
                            Interlocked.Increment(ref folds);
                            break;
                        default:
                            Assert.Fail($"{path} answered {(int)response.StatusCode}");
                            break;
                    }
                }
            }
        }, TestContext.Current.CancellationToken)).ToArray();

        await ValetProcess.WaitUntilAsync(() => Task.FromResult(created.Count >= 300 && Volatile.Read(ref folds) >= 300),
            TimeSpan.FromSeconds(60), "a burst of answered triggers");
        var killedAt = clock.Elapsed;
        await valet.KillAsync();
        await Task.WhenAll(clients);
        await valet.RestartAsync();

        var items = (await valet.QueueItemsAsync()).ToDictionary(i => i!["id"]!.GetValue<long>(), i => i!);
        foreach (var (id, value) in created)
        {
            Assert.True(items.TryGetValue(id, out var item), $"answered item {id} (v={value}) is gone after the crash");
            Assert.Equal($"\nv={value}", item["params"]!.GetValue<string>());
        }
        // Every fold answered with 303 counts in the one waiting item, except on SQLite those answered
        // within the last second before the crash; requests cut off by the crash may count too.
        var foldItem = Assert.Single(foldItems);
        var mustCount = ValetProcess.OnPostgres ? folds : foldsAnswered.Count(t => t < killedAt - TimeSpan.FromSeconds(1));
        Assert.True(Occurrences(items[foldItem]) >= mustCount + 1,
            $"the fold item counts {Occurrences(items[foldItem])} requests, {mustCount + 1} were answered more than a second before the crash");
        Assert.True(Occurrences(items[foldItem]) <= folds + 1 + Clients, $"the fold item counts {Occurrences(items[foldItem])} requests, at most {folds + 1 + Clients} were sent");
    }

    /// <summary>Requests folded into an item from one address: the causes listed, or the count on the last past 100.</summary>
    static long Occurrences(JsonNode item)
    {
        var causes = item["actions"]!.AsArray().Single(a => a!["_class"]!.GetValue<string>() == "hudson.model.CauseAction")!["causes"]!.AsArray();
        Assert.All(causes, c => Assert.Equal("127.0.0.1", c!["addr"]!.GetValue<string>()));
        return causes[^1]!["count"]?.GetValue<long>() ?? causes.Count;
    }
}
