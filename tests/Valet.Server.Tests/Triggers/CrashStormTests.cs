using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>
/// limits.md §3 and §5 under fire: rounds of kill -9 at a random moment during a storm of token
/// triggers (new items, folds, idempotent repeats) while builds run, a restart on the same home, and
/// after each restart: every acknowledged item is queued or built, no item is built twice, no build
/// number is reused, idempotency keys replay what they answered, and (SQLite) `PRAGMA integrity_check`
/// is ok. `VALET_CRASH_ROUNDS` sets the rounds (3 by default, as `./test` runs it); `bench/crash-storm`
/// runs 20 and prints each round's figures.
/// </summary>
public sealed class CrashStormTests(ITestOutputHelper output)
{
    // `hold` keeps its items waiting for the whole run, so each must still be in the queue; `run` builds
    // at once on two executors, so builds are running, starting and finishing when the kill comes.
    // `run` is concurrent: on PostgreSQL a dead server's builds stay open until a live server ends
    // them, which must not keep the job's next items waiting.
    const string Config = """
        server:
          executors: 2
          quietPeriod: 0
          maxQueuedPerJob: 1000000
        security:
          triggerGuard: { enabled: false }
        jobs:
          - name: hold
            authToken: secret
            quietPeriod: 3600
            parameters:
              - { type: string, name: v }
          - name: run
            authToken: secret
            concurrent: true
            parameters:
              - { type: string, name: v }
            steps:
              - sh: sleep 0.3; echo built $v
        """;

    const int HoldClients = 4;

    static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("VALET_CRASH_ROUNDS"), out var n) && n > 0 ? n : 3;

    /// <summary>Every answer with an item id the storm got, by job, and what each fold value and idempotency key named.</summary>
    sealed class Acknowledged
    {
        public readonly ConcurrentDictionary<long, string> Hold = new();
        public readonly ConcurrentDictionary<long, string> Run = new();
        public readonly ConcurrentDictionary<string, ConcurrentBag<long>> FoldValues = new();
        public readonly ConcurrentDictionary<string, long> Keys = new();
        public readonly ConcurrentBag<string> Wrong = new();
        public int Answers;
    }

    /// <summary>What the server showed of `run`'s builds: number to queue item id, kept across rounds.</summary>
    readonly Dictionary<int, long> builds = [];
    readonly HashSet<int> finished = [];

    [Fact]
    public async Task Kill_9_at_random_moments_of_a_trigger_storm_loses_no_acknowledged_item_and_builds_none_twice()
    {
        var started = Stopwatch.StartNew();
        await using var valet = await ValetProcess.StartAsync(Config);
        var acked = new Acknowledged();
        var random = new Random();
        for (var round = 1; round <= Rounds; round++)
        {
            var before = (acked.Hold.Count, acked.Run.Count, acked.Answers);
            var roundWatch = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, HoldClients).Select(c => Task.Run(() => HoldClientAsync(valet, round, c, acked)))
                .Append(Task.Run(() => RunClientAsync(valet, round, acked, stop.Token)))
                .ToArray();
            var killAfter = TimeSpan.FromMilliseconds(random.Next(200, 3000));
            await Task.Delay(killAfter);
            var running = await RunningAsync(valet);
            await valet.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Empty(acked.Wrong);
            if (!ValetProcess.OnPostgres)
                Assert.Equal("ok", await IntegrityCheckAsync(valet.Home));

            var restart = Stopwatch.StartNew();
            await valet.RestartAsync();
            var restarted = restart.Elapsed;
            await CheckAsync(valet, acked, TimeSpan.FromSeconds(ValetProcess.OnPostgres ? 120 : 30));
            await ReplayKeysAsync(valet, acked, random);
            output.WriteLine($"round {round}: killed after {killAfter.TotalMilliseconds:0} ms with {running} builds running; " +
                $"answers {acked.Answers - before.Answers}, new items acknowledged {acked.Hold.Count - before.Item1} hold + {acked.Run.Count - before.Item2} run; " +
                $"builds so far {builds.Count}; restart {restarted.TotalSeconds:0.0} s, all items found {(restart.Elapsed - restarted).TotalSeconds:0.0} s later; round took {roundWatch.Elapsed.TotalSeconds:0.0} s");
        }

        // Every acknowledged `run` item is eventually built, once; `hold`'s are all still waiting.
        await ValetProcess.WaitUntilAsync(async () =>
        {
            await CheckAsync(valet, acked, TimeSpan.FromSeconds(ValetProcess.OnPostgres ? 120 : 30));
            return acked.Run.Keys.All(id => builds.ContainsValue(id)) && finished.Count == builds.Count;
        }, TimeSpan.FromSeconds(ValetProcess.OnPostgres ? 240 : 120), "every acknowledged run item to be built");
        var queued = await QueuedAsync(valet);
        Assert.All(acked.Hold.Keys, id => Assert.Contains(id, queued));
        await valet.StopAsync();
        if (!ValetProcess.OnPostgres)
            Assert.Equal("ok", await IntegrityCheckAsync(valet.Home));
        output.WriteLine($"{Rounds} rounds in {started.Elapsed.TotalSeconds:0} s: {acked.Answers} answers, " +
            $"{acked.Hold.Count + acked.Run.Count} new items acknowledged ({acked.Hold.Count} hold, {acked.Run.Count} run), " +
            $"{acked.FoldValues.Sum(f => f.Value.Count)} fold answers, {acked.Keys.Count} idempotency keys, {builds.Count} builds " +
            $"(numbers up to {builds.Keys.Max()})");
    }

    /// <summary>New items, folds and idempotent repeats on `hold` until the server stops answering.</summary>
    static async Task HoldClientAsync(ValetProcess valet, int round, int c, Acknowledged acked)
    {
        using var http = valet.Anonymous();
        var keys = new List<string>();
        for (var i = 0; ; i++)
        {
            var tag = $"r{round}c{c}i{i}";
            switch (i % 4)
            {
                case 0:
                    if (await TriggerAsync(http, "hold", tag, acked) is not { } item)
                        return;
                    Expect(acked, tag, item.Status == HttpStatusCode.Created);
                    acked.Hold[item.Id] = tag;
                    break;
                case 1:
                    // A few values per round, each sent by every client: one item each, the rest fold into it.
                    var value = $"fold-r{round}-{i / 4 % 3}";
                    if (await TriggerAsync(http, "hold", value, acked) is not { } fold)
                        return;
                    acked.FoldValues.GetOrAdd(value, _ => []).Add(fold.Id);
                    break;
                case 2:
                    if (await TriggerAsync(http, "hold", "idem-" + tag, acked, key: tag) is not { } first)
                        return;
                    Expect(acked, tag, first is { Status: HttpStatusCode.Created, Replayed: false });
                    acked.Keys[tag] = first.Id;
                    keys.Add(tag);
                    break;
                default:
                    // A repeat of one of this client's keys, with another value that must be ignored.
                    var again = keys[Random.Shared.Next(keys.Count)];
                    if (await TriggerAsync(http, "hold", "ignored-" + tag, acked, key: again) is not { } repeat)
                        return;
                    Expect(acked, $"{again} repeated", repeat is { Status: HttpStatusCode.Created, Replayed: true } && repeat.Id == acked.Keys[again]);
                    break;
            }
        }
    }

    /// <summary>New items on `run`, a few a second so its builds keep up, each sent twice: the second folds unless the first has started.</summary>
    static async Task RunClientAsync(ValetProcess valet, int round, Acknowledged acked, CancellationToken stop)
    {
        using var http = valet.Anonymous();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var value = $"r{round}i{i}";
            for (var repeat = 0; repeat < 2; repeat++)
            {
                if (await TriggerAsync(http, "run", value, acked) is not { } item)
                    return;
                Expect(acked, value, repeat == 1 || item.Status == HttpStatusCode.Created);
                acked.Run[item.Id] = value;
            }
            try { await Task.Delay(150, stop); }
            catch (OperationCanceledException) { return; }
        }
    }

    sealed record Answer(HttpStatusCode Status, long Id, bool Replayed);

    /// <summary>One trigger; null once the server no longer answers (the kill).</summary>
    static async Task<Answer?> TriggerAsync(HttpClient http, string job, string value, Acknowledged acked, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"buildByToken/buildWithParameters?job={job}&token=secret&v={value}");
        if (key is not null)
            request.Headers.Add("Idempotency-Key", key);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        using (response)
        {
            Interlocked.Increment(ref acked.Answers);
            if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.SeeOther))
            {
                acked.Wrong.Add($"{job} v={value} key={key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return null;
            }
            return new(response.StatusCode, response.QueueId(), response.Headers.Contains("Idempotent-Replayed"));
        }
    }

    static void Expect(Acknowledged acked, string what, bool holds)
    {
        if (!holds)
            acked.Wrong.Add(what);
    }

    /// <summary>
    /// Reads the queue and `run`'s builds until every acknowledged item is in one or the other (on
    /// PostgreSQL a dead server's claimed items return to the queue only once it is found dead), and
    /// checks that no build number changed its item or vanished and no item has two builds.
    /// </summary>
    async Task CheckAsync(ValetProcess valet, Acknowledged acked, TimeSpan timeout)
    {
        List<long> missing = [];
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var queued = await QueuedAsync(valet);
            await ReadBuildsAsync(valet);
            var built = builds.Values.ToHashSet();
            missing = acked.Hold.Keys.Concat(acked.Run.Keys).Concat(acked.Keys.Values).Concat(acked.FoldValues.Values.SelectMany(f => f))
                .Where(id => !queued.Contains(id) && !built.Contains(id)).Distinct().ToList();
            if (missing.Count == 0)
                break;
            Assert.True(watch.Elapsed < timeout,
                $"acknowledged items neither queued nor built: {string.Join(", ", missing.Take(20))} (of {missing.Count}); server output:\n{valet.Output}");
            await Task.Delay(500);
        }
        var twice = builds.GroupBy(b => b.Value).Where(g => g.Count() > 1).Select(g => $"item {g.Key} as #{string.Join(", #", g.Select(b => b.Key))}").ToList();
        Assert.True(twice.Count == 0, "items built twice: " + string.Join("; ", twice));
        foreach (var (value, ids) in acked.FoldValues)
            Assert.True(ids.Distinct().Count() == 1, $"requests for v={value} named items {string.Join(", ", ids.Distinct())}, not one");
        var hold = acked.Hold.Keys.Concat(acked.Keys.Values).Concat(acked.FoldValues.Values.SelectMany(f => f)).ToHashSet();
        var holdBuilt = builds.Where(b => hold.Contains(b.Value)).Select(b => b.Key).ToList();
        Assert.True(holdBuilt.Count == 0, "a waiting job's items were built: #" + string.Join(", #", holdBuilt));
    }

    static async Task<HashSet<long>> QueuedAsync(ValetProcess valet) =>
        (await valet.GetJsonAsync("queue/api/json?tree=items[id]"))["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()).ToHashSet();

    /// <summary>Adds `run`'s builds to <see cref="builds"/>; a number seen before must still name the same item.</summary>
    async Task ReadBuildsAsync(ValetProcess valet)
    {
        var numbers = (await valet.GetJsonAsync("job/run/api/json?tree=allBuilds[number]"))["allBuilds"]!.AsArray()
            .Select(b => b!["number"]!.GetValue<int>()).ToHashSet();
        var gone = builds.Keys.Where(n => !numbers.Contains(n)).ToList();
        Assert.True(gone.Count == 0, "builds gone after a restart: #" + string.Join(", #", gone));
        foreach (var number in numbers.Where(n => !finished.Contains(n)))
        {
            var build = await valet.GetJsonAsync($"job/run/{number}/api/json");
            var queueId = build["queueId"]!.GetValue<long>();
            if (builds.TryGetValue(number, out var known))
                Assert.True(known == queueId, $"build number {number} was item {known}'s and is now item {queueId}'s");
            builds[number] = queueId;
            if (!build["building"]!.GetValue<bool>())
                finished.Add(number);
        }
    }

    static async Task<int> RunningAsync(ValetProcess valet)
    {
        try
        {
            return (await valet.GetJsonAsync("job/run/api/json?tree=allBuilds[building]"))["allBuilds"]!.AsArray()
                .Count(b => b!["building"]!.GetValue<bool>());
        }
        catch (HttpRequestException)
        {
            return -1;
        }
    }

    /// <summary>A sample of the keys answered so far, sent again after the restart: each replays its item.</summary>
    static async Task ReplayKeysAsync(ValetProcess valet, Acknowledged acked, Random random)
    {
        using var http = valet.Anonymous();
        var sample = acked.Keys.ToArray();
        random.Shuffle(sample);
        foreach (var (key, id) in sample.Take(20))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"buildByToken/buildWithParameters?job=hold&token=secret&v=after-restart");
            request.Headers.Add("Idempotency-Key", key);
            using var response = await http.SendAsync(request);
            Assert.Equal((HttpStatusCode.Created, id, true), (response.StatusCode, response.QueueId(), response.Headers.Contains("Idempotent-Replayed")));
        }
    }

    /// <summary>SQLite's own check of the store the killed server left, opened read-only.</summary>
    static async Task<string> IntegrityCheckAsync(string home)
    {
        var file = Path.Combine(home, "valet.db");
        await using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await conn.OpenAsync();
        await using var check = conn.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        var lines = new List<string>();
        await using var reader = await check.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            lines.Add(reader.GetString(0));
        return string.Join("\n", lines);
    }
}
