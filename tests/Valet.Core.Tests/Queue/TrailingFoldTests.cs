using System.Diagnostics;
using Dapper;
using Valet.Core.Queue;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Queue;

/// <summary>build-token-root.md §6: a fold that moves nothing earlier may trail; everything else commits first.</summary>
public class TrailingFoldTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly Cause Remote = Cause.Remote("10.0.0.7", null);

    static BuildQueue Queue(TempStore store) => new(store.Db, store.Secrets, store.Time);

    static DateTimeOffset InSeconds(TempStore store, int seconds) => store.Time.GetUtcNow().AddSeconds(seconds);

    static Task<int> StoredCountAsync(TempStore store, long id) => store.Db.ReadAsync(async s =>
        Json.Read<List<Cause>>((await s.ExecuteScalarAsync<string>("SELECT causes FROM queue_item WHERE id = @id", new { id }))!).Sum(c => c.Count), Ct);

    static async Task<int> ShownCountAsync(BuildQueue queue, long id) => (await queue.FindAsync(id, Ct))!.Causes.Sum(c => c.Count);

    [Fact]
    public async Task A_fold_that_moves_nothing_earlier_is_answered_without_the_writer_and_shown_at_once()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        Assert.Equal(new EnqueueResult(first.Id, Folded: true), await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct));

        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
        var fold = queue.EnqueueAsync(job, null, Remote, InSeconds(store, 6), Ct);
        if (Engine == StoreEngine.Postgres)
        {
            // Several servers (each write on a connection of its own): every fold commits before its answer.
            Assert.Equal(new EnqueueResult(first.Id, Folded: true), await fold);
            Assert.Equal(3, await StoredCountAsync(store, first.Id));
            release.SetResult();
            await held;
            return;
        }
        Assert.True(fold.IsCompletedSuccessfully);
        Assert.Equal(new EnqueueResult(first.Id, Folded: true), await fold);
        Assert.Equal(3, await ShownCountAsync(queue, first.Id));
        Assert.Equal(3, (await queue.QueuedAsync(Ct)).Single().Causes.Single().Count);
        Assert.Equal(3, (await queue.FirstQueuedForJobAsync(job.Id, Ct))!.Causes.Single().Count);

        release.SetResult();
        await held;
        var written = Stopwatch.StartNew();
        await Until.HoldsAsync(async () => await StoredCountAsync(store, first.Id) == 3, "the trailing count on disk");
        Assert.InRange(written.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Equal(3, await ShownCountAsync(queue, first.Id));
    }

    /// <summary>
    /// Sends a request while SQLite's one writer is held, and checks that its answer waits for the
    /// writer; PostgreSQL writes on connections of their own, so there the answer simply follows the commit.
    /// </summary>
    async Task<EnqueueResult> FoldWhileTheWriterIsHeldAsync(TempStore store, Func<Task<EnqueueResult>> send)
    {
        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
        var answer = send();
        if (Engine == StoreEngine.Sqlite)
        {
            await Task.Delay(200, Ct);
            Assert.False(answer.IsCompleted);
        }
        release.SetResult();
        await held;
        return await answer;
    }

    [Fact]
    public async Task A_fold_that_moves_the_item_earlier_is_committed_before_its_answer()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 60), Ct);

        var earlier = await FoldWhileTheWriterIsHeldAsync(store, () => queue.EnqueueAsync(job, null, Remote, InSeconds(store, 10), Ct));
        Assert.Equal(new EnqueueResult(first.Id, Folded: true), earlier);
        Assert.Equal(2, await StoredCountAsync(store, first.Id));
        Assert.Equal(InSeconds(store, 10).ToUnixTimeMilliseconds(),
            await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT due_at FROM queue_item WHERE id = @id", new { id = first.Id }), Ct));
    }

    [Fact]
    public async Task A_fold_into_an_item_not_yet_on_disk_waits_for_it()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);

        Task<EnqueueResult>? first = null;
        var second = await FoldWhileTheWriterIsHeldAsync(store, () =>
        {
            first = queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
            return queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        });
        Assert.Equal(new EnqueueResult((await first!).Id, Folded: true), second);
        Assert.Equal(2, await StoredCountAsync(store, (await first).Id));
    }

    [Fact]
    public async Task A_claim_takes_the_unwritten_causes_and_later_requests_queue_anew()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        await queue.EnqueueAsync(job, null, Cause.Remote("10.0.0.8", "deploy"), InSeconds(store, 0), Ct);

        var claimed = await store.Db.WriteAsync(s => queue.ClaimAsync(s, "built-in", InSeconds(store, 1).ToUnixTimeMilliseconds()), Ct);
        Assert.Equal(first.Id, claimed!.Id);
        Assert.Equal([2, 1], claimed.Causes.Select(c => c.Count));
        Assert.Equal(3, await StoredCountAsync(store, first.Id));

        var after = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        Assert.False(after.Folded);
        Assert.NotEqual(first.Id, after.Id);
        await Task.Delay(TrailingFolds.FlushAfter * 3, Ct);
        Assert.Equal(3, await StoredCountAsync(store, first.Id));
    }

    [Fact]
    public async Task A_cancelled_item_is_no_longer_folded_into_and_keeps_its_count()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        Assert.Equal(CancelOutcome.Cancelled, await queue.CancelAsync(first.Id, Ct));
        Assert.False((await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct)).Folded);
        await Until.HoldsAsync(async () => await StoredCountAsync(store, first.Id) == 2, "the cancelled item's count on disk");

        var second = (await queue.QueuedAsync(Ct)).Single();
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        await store.Db.WriteAsync(s => queue.CancelAllAsync(s, job.Id, 0), Ct);
        Assert.False((await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct)).Folded);
        Assert.Equal(2, await ShownCountAsync(queue, second.Id));
    }

    [Fact]
    public async Task Stopping_writes_every_trailing_count()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct)));
        await queue.StopAsync(Ct);
        Assert.Equal(201, await StoredCountAsync(store, first.Id));
        await store.ReopenAsync();
        Assert.Equal(201, await ShownCountAsync(Queue(store), first.Id));
    }

    [Fact]
    public async Task Reads_during_a_stream_of_trailing_folds_never_show_a_count_go_down()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var folds = 1;
        var writing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
                Interlocked.Increment(ref folds);
            }
        }, Ct);
        var last = 0;
        while (!stop.IsCancellationRequested)
        {
            var before = Volatile.Read(ref folds);
            var shown = await ShownCountAsync(queue, first.Id);
            Assert.InRange(shown, Math.Max(last, before), int.MaxValue);
            last = shown;
        }
        await writing;
        await queue.StopAsync(Ct);
        Assert.Equal(folds, await StoredCountAsync(store, first.Id));
    }
}

public sealed class TrailingFoldOnPostgresTests : TrailingFoldTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
