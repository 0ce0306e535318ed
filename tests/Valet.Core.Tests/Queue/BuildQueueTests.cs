using Dapper;
using Microsoft.Data.Sqlite;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Xunit;

namespace Valet.Core.Tests.Queue;

public class BuildQueueTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly FreestyleJob Parameterized = new()
    {
        Parameters =
        [
            new() { Type = ParameterType.String, Name = "foo" },
            new() { Type = ParameterType.String, Name = "baz" },
            new() { Type = ParameterType.Password, Name = "pw" },
        ],
    };

    static ParameterValue[] Values(string foo, string baz, string pw = "") =>
        [new("foo", ParameterType.String, foo), new("baz", ParameterType.String, baz), new("pw", ParameterType.Password, pw)];

    static readonly Cause Remote = Cause.Remote("10.0.0.7", null);

    static BuildQueue Queue(TempStore store) => new(store.Db, store.Secrets, store.Time);

    DateTimeOffset InSeconds(TempStore store, int seconds) => store.Time.GetUtcNow().AddSeconds(seconds);

    [Fact]
    public async Task Ids_grow_and_are_never_reused_after_rows_are_deleted_and_the_database_reopened()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var (id, _) = await queue.EnqueueAsync(job, Values($"{i}", "b"), Remote, InSeconds(store, 5), Ct);
            ids.Add(id);
        }
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(3, ids.Distinct().Count());

        await store.Db.WriteAsync(s => s.ExecuteAsync("DELETE FROM queue_item"), Ct);
        await store.ReopenAsync();
        var (next, folded) = await Queue(store).EnqueueAsync(job, Values("0", "b"), Remote, InSeconds(store, 5), Ct);
        Assert.False(folded);
        Assert.True(next > ids.Max(), $"new id {next} is larger than {ids.Max()}");
    }

    [Fact]
    public async Task A_job_without_parameters_folds_into_its_queued_item()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("dir/p");
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        var second = await queue.EnqueueAsync(job, null, Cause.Timer, InSeconds(store, 5), Ct);
        Assert.Equal(new EnqueueResult(first.Id, Folded: false), first);
        Assert.Equal(new EnqueueResult(first.Id, Folded: true), second);
        Assert.Single(await queue.QueuedAsync(Ct));
    }

    [Fact]
    public async Task Items_of_different_jobs_never_fold()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var queue = Queue(store);
        var a = await queue.EnqueueAsync(await store.CreateAsync("a"), null, Remote, InSeconds(store, 5), Ct);
        var b = await queue.EnqueueAsync(await store.CreateAsync("b"), null, Remote, InSeconds(store, 5), Ct);
        Assert.False(b.Folded);
        Assert.NotEqual(a.Id, b.Id);
    }

    [Fact]
    public async Task Only_identical_parameter_values_fold_whatever_their_order()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, Values("bar", "quux", "hunter2"), Remote, InSeconds(store, 5), Ct);
        var reordered = await queue.EnqueueAsync(job, Values("bar", "quux", "hunter2").Reverse().ToList(), Remote, InSeconds(store, 5), Ct);
        var otherValue = await queue.EnqueueAsync(job, Values("bar", "other", "hunter2"), Remote, InSeconds(store, 5), Ct);
        var otherPassword = await queue.EnqueueAsync(job, Values("bar", "quux", "hunter3"), Remote, InSeconds(store, 5), Ct);
        var swapped = await queue.EnqueueAsync(job, Values("quux", "bar", "hunter2"), Remote, InSeconds(store, 5), Ct);

        Assert.Equal(new EnqueueResult(first.Id, true), reordered);
        Assert.False(otherValue.Folded);
        Assert.False(otherPassword.Folded);
        Assert.False(swapped.Folded);
        Assert.Equal(4, (await queue.QueuedAsync(Ct)).Count(i => i.JobId == job.Id));
    }

    [Fact]
    public async Task Values_that_look_like_the_key_separators_never_fold_into_other_values()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var queue = Queue(store);
        var first = await queue.EnqueueAsync(job, Values(foo: "C", baz: "A\0foo\0B"), Remote, InSeconds(store, 5), Ct);
        var second = await queue.EnqueueAsync(job, Values(foo: "B\0foo\0C", baz: "A"), Remote, InSeconds(store, 5), Ct);
        Assert.False(second.Folded);
        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public async Task An_empty_value_set_never_folds_with_an_item_without_values()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        Assert.False((await queue.EnqueueAsync(job, [], Remote, InSeconds(store, 5), Ct)).Folded);
        Assert.True((await queue.EnqueueAsync(job, [], Remote, InSeconds(store, 5), Ct)).Folded);
    }

    [Fact]
    public async Task Items_out_of_the_queue_are_never_folded_into()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var cancelled = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        await queue.CancelAsync(cancelled.Id, Ct);
        var left = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        await store.Db.WriteAsync(s => queue.MarkLeftAsync(s, left.Id, 1, "built-in", 0), Ct);
        var fresh = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        Assert.False(left.Folded);
        Assert.False(fresh.Folded);
        Assert.Equal(3, new[] { cancelled.Id, left.Id, fresh.Id }.Distinct().Count());
    }

    [Fact]
    public async Task A_request_after_a_restart_folds_into_the_item_queued_before_it()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var before = await Queue(store).EnqueueAsync(job, Values("a", "b", "secret"), Remote, InSeconds(store, 5), Ct);

        await store.ReopenAsync();
        var queue = Queue(store);
        var other = await queue.EnqueueAsync(job, Values("other", "b", "secret"), Remote, InSeconds(store, 5), Ct);
        var after = await queue.EnqueueAsync(job, Values("a", "b", "secret"), Remote, InSeconds(store, 5), Ct);

        Assert.False(other.Folded);
        Assert.Equal(new EnqueueResult(before.Id, Folded: true), after);
    }

    [Fact]
    public async Task An_insert_rolled_back_is_never_folded_into_though_its_id_goes_to_another_item()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var queue = Queue(store);
        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.EnqueueOnceAsync(job, Values("a", "b"), Remote, InSeconds(store, 5),
            _ => Task.FromResult(true), (_, _) => throw new InvalidOperationException("idempotency record failed"), Ct));
        // The rolled-back insert gave its id back; the next item takes it.
        var other = await queue.EnqueueAsync(job, Values("other", "b"), Remote, InSeconds(store, 5), Ct);
        var again = await queue.EnqueueAsync(job, Values("a", "b"), Remote, InSeconds(store, 5), Ct);

        Assert.False(other.Folded);
        Assert.False(again.Folded);
        Assert.NotEqual(other.Id, again.Id);
        Assert.Equal(Values("other", "b").Select(v => v.Value), (await queue.FindAsync(other.Id, Ct))!.Parameters!.Select(v => v.Value));
    }

    [Fact]
    public async Task Equivalent_items_already_waiting_together_are_folded_into_one_after_the_other()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var first = await Queue(store).EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        // A second waiting item of the same kind, as data from before folding could hold.
        var insertSecond = () => store.Db.WriteAsync(s => s.QuerySingleAsync<long>(
            """
            INSERT INTO queue_item (job_id, state, due_at, in_queue_since, params, params_key, causes)
            SELECT job_id, state, due_at, in_queue_since, params, params_key, causes FROM queue_item WHERE id = @id RETURNING id
            """, new { id = first.Id }), Ct);
        if (Engine == StoreEngine.Postgres)
        {
            // Shared by several servers, PostgreSQL holds the rule in its schema: such data cannot arise.
            var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(insertSecond);
            Assert.Equal(Npgsql.PostgresErrorCodes.UniqueViolation, refused.SqlState);
            Assert.Single(await Queue(store).QueuedAsync(Ct));
            return;
        }
        var second = await insertSecond();
        await store.ReopenAsync();
        var queue = Queue(store);

        Assert.Equal(new EnqueueResult(first.Id, Folded: true), await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct));
        await store.Db.WriteAsync(s => queue.MarkLeftAsync(s, first.Id, 1, "built-in", 0), Ct);
        Assert.Equal(new EnqueueResult(second, Folded: true), await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct));
        await queue.CancelAsync(second, Ct);
        Assert.False((await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct)).Folded);
    }

    [Fact]
    public async Task The_fold_map_forgets_items_that_left_once_it_has_grown()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var queue = Queue(store);
        // Without a map (PostgreSQL) the rows alone answer: fewer items show the same behaviour.
        var count = Engine == StoreEngine.Sqlite ? 9_990 : 300;
        // In order, so the last ids hold the last values: SQLite's one writer applies a chunk in
        // arrival order, PostgreSQL commits concurrent writes in any order.
        foreach (var chunk in Enumerable.Range(0, count).Chunk(Engine == StoreEngine.Sqlite ? 1_000 : 1))
            await Task.WhenAll(chunk.Select(i => queue.EnqueueAsync(job, Values($"{i}", "b"), Remote, InSeconds(store, 5), Ct)));
        var map = Engine == StoreEngine.Sqlite ? FoldMap.Of(store.Db) : null;
        if (map is not null)
            Assert.Equal(count, map.Count);

        // All but the last 50 leave. Past 10 000 entries the map finds its oldest entries gone and
        // loads afresh: it then holds what waits.
        var leaving = await store.Db.ReadAsync(s => s.QueryAsync<long>("SELECT id FROM queue_item WHERE id NOT IN (SELECT id FROM queue_item ORDER BY id DESC LIMIT 50)"), Ct);
        await store.Db.WriteAsync(async s =>
        {
            foreach (var id in leaving)
                await queue.MarkLeftAsync(s, id, 1, "built-in", 0);
            return 0;
        }, Ct);
        for (var i = 0; i < 20; i++)
            Assert.False((await queue.EnqueueAsync(job, Values($"new{i}", "b"), Remote, InSeconds(store, 5), Ct)).Folded);
        if (map is not null)
            Assert.InRange(map.Count, 50, 70);
        Assert.True((await queue.EnqueueAsync(job, Values($"{count - 1}", "b"), Remote, InSeconds(store, 5), Ct)).Folded);
        Assert.True((await queue.EnqueueAsync(job, Values("new0", "b"), Remote, InSeconds(store, 5), Ct)).Folded);
        Assert.False((await queue.EnqueueAsync(job, Values("0", "b"), Remote, InSeconds(store, 5), Ct)).Folded);
    }

    [Fact]
    public async Task The_fold_map_forgets_items_that_left_behind_items_that_keep_waiting()
    {
        if (Engine != StoreEngine.Sqlite)
            Assert.Skip("the fold map is SQLite's; PostgreSQL reads the rows");
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var queue = Queue(store);
        // The oldest entries keep waiting (a job whose items wait for hours); many later ones leave.
        foreach (var chunk in Enumerable.Range(0, 3_000).Chunk(1_000))
            await Task.WhenAll(chunk.Select(i => queue.EnqueueAsync(job, Values($"keep{i}", "b"), Remote, InSeconds(store, 3600), Ct)));
        var gone = new List<long>();
        foreach (var chunk in Enumerable.Range(0, 6_500).Chunk(1_000))
            gone.AddRange((await Task.WhenAll(chunk.Select(i => queue.EnqueueAsync(job, Values($"gone{i}", "b"), Remote, InSeconds(store, 3600), Ct)))).Select(r => r.Id));
        await store.Db.WriteAsync(async s =>
        {
            foreach (var id in gone)
                await queue.MarkLeftAsync(s, id, 1, "built-in", 0);
            return 0;
        }, Ct);
        // Past 10,000 entries the map checks a sample spread over it, finds most of it gone and loads afresh.
        for (var i = 0; i < 600; i++)
            Assert.False((await queue.EnqueueAsync(job, Values($"new{i}", "b"), Remote, InSeconds(store, 3600), Ct)).Folded);
        Assert.InRange(FoldMap.Of(store.Db).Count, 3_000, 3_600);
        Assert.True((await queue.EnqueueAsync(job, Values("keep0", "b"), Remote, InSeconds(store, 3600), Ct)).Folded);
        Assert.False((await queue.EnqueueAsync(job, Values("gone0", "b"), Remote, InSeconds(store, 3600), Ct)).Folded);
    }

    [Fact]
    public async Task A_fold_with_an_earlier_due_time_moves_the_item_earlier()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 60), Ct);
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        Assert.Equal(store.Time.GetUtcNow().ToUnixTimeMilliseconds(), (await queue.FindAsync(id, Ct))!.DueAt);
    }

    [Fact]
    public async Task A_fold_with_a_later_due_time_never_moves_the_item_later()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 60), Ct);
        Assert.Equal(store.Time.GetUtcNow().ToUnixTimeMilliseconds(), (await queue.FindAsync(id, Ct))!.DueAt);
    }

    [Fact]
    public async Task Folded_causes_are_counted_and_distinct_ones_kept()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        await queue.EnqueueAsync(job, null, Cause.Remote("10.0.0.7", "x"), InSeconds(store, 5), Ct);
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        var item = (await queue.FindAsync(id, Ct))!;
        Assert.Equal([Remote with { Count = 3 }, Cause.Remote("10.0.0.7", "x")], item.Causes);
    }

    [Fact]
    public async Task A_new_item_records_when_it_was_queued_and_its_due_time()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, Values("bar", "quux"), Remote, InSeconds(store, 5), Ct);
        var item = (await queue.FindAsync(id, Ct))!;
        var now = store.Time.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.Equal((job.Id, QueueState.Queued, now + 5000, now), (item.JobId, item.State, item.DueAt, item.InQueueSince));
        Assert.Equal(Values("bar", "quux"), item.Parameters);
        Assert.Equal([Remote], item.Causes);
        Assert.Null(item.BuildNumber);
        Assert.Null(item.LeftAt);
    }

    [Fact]
    public async Task Cancelling_answers_cancelled_then_already_left_and_not_found_for_unknown_ids()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);

        Assert.Equal(CancelOutcome.Cancelled, await queue.CancelAsync(id, Ct));
        Assert.Equal(CancelOutcome.AlreadyLeft, await queue.CancelAsync(id, Ct));
        Assert.Equal(CancelOutcome.NotFound, await queue.CancelAsync(id + 1000, Ct));
        var item = (await queue.FindAsync(id, Ct))!;
        Assert.Equal(QueueState.Cancelled, item.State);
        Assert.Equal(store.Time.GetUtcNow().ToUnixTimeMilliseconds(), item.LeftAt);
        Assert.Empty(await queue.QueuedAsync(Ct));
    }

    [Fact]
    public async Task Cancelling_an_item_that_left_for_a_build_answers_already_left()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        await store.Db.WriteAsync(s => queue.MarkLeftAsync(s, id, 1, "built-in", 0), Ct);
        Assert.Equal(CancelOutcome.AlreadyLeft, await queue.CancelAsync(id, Ct));
        Assert.Equal(QueueState.Left, (await queue.FindAsync(id, Ct))!.State);
    }

    [Fact]
    public async Task Password_values_are_not_stored_in_clear_yet_found_again()
    {
        const string Secret = "hunter2-5b0e6c";
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, Values("visible-bar", "quux", Secret), Remote, InSeconds(store, 5), Ct);

        var (stored, key) = await store.Db.ReadAsync(s => s.QuerySingleAsync<(string, string)>("SELECT params, params_key FROM queue_item WHERE id = @id", new { id }), Ct);
        Assert.Contains("visible-bar", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, key, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, store.RawFiles(), StringComparison.Ordinal);
        Assert.Equal(Values("visible-bar", "quux", Secret), (await queue.FindAsync(id, Ct))!.Parameters);
    }

    [Fact]
    public async Task Queued_items_list_the_next_to_run_first()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var queue = Queue(store);
        var late = await queue.EnqueueAsync(await store.CreateAsync("a"), null, Remote, InSeconds(store, 60), Ct);
        var early = await queue.EnqueueAsync(await store.CreateAsync("b"), null, Remote, InSeconds(store, 1), Ct);
        Assert.Equal([early.Id, late.Id], (await queue.QueuedAsync(Ct)).Select(i => i.Id));
        Assert.Equal(store.Time.GetUtcNow().AddSeconds(1).ToUnixTimeMilliseconds(), await queue.NextDueAsync(Ct));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Items_out_of_the_queue_stay_visible_for_five_minutes(bool cancelled)
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        Assert.True(queue.StillVisible((await queue.FindAsync(id, Ct))!));

        var now = store.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (cancelled)
            await queue.CancelAsync(id, Ct);
        else
            await store.Db.WriteAsync(s => queue.MarkLeftAsync(s, id, 1, "built-in", now), Ct);
        var item = (await queue.FindAsync(id, Ct))!;

        Assert.True(queue.StillVisible(item));
        store.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.True(queue.StillVisible(item));
        store.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(queue.StillVisible(item));
    }

    [Fact]
    public async Task A_queued_item_stays_visible_however_long_it_waits()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(await store.CreateAsync("p"), null, Remote, InSeconds(store, 3600), Ct);
        store.Time.Advance(TimeSpan.FromHours(2));
        Assert.True(queue.StillVisible((await queue.FindAsync(id, Ct))!));
    }

    [Fact]
    public async Task A_claim_takes_the_first_due_item_whose_job_may_start()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var busy = await store.CreateAsync("busy");
        var free = await store.CreateAsync("free");
        var queue = Queue(store);
        await queue.EnqueueAsync(busy, null, Remote, InSeconds(store, 0), Ct);
        var (freeId, _) = await queue.EnqueueAsync(free, null, Remote, InSeconds(store, 1), Ct);
        await queue.EnqueueAsync(await store.CreateAsync("later"), null, Remote, InSeconds(store, 60), Ct);
        var now = store.Time.GetUtcNow().ToUnixTimeMilliseconds();

        Assert.Null(await store.Db.WriteAsync(s => queue.ClaimAsync(s, "built-in", now - 1), Ct));
        await TakeBuildSlotAsync(store, busy);
        var claimed = await store.Db.WriteAsync(s => queue.ClaimAsync(s, "built-in", now + 1000), Ct);
        Assert.Equal(freeId, claimed?.Id);
    }

    [Fact]
    public async Task A_claim_skips_a_job_holding_its_build_slot_until_that_build_finishes()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("serial");
        var queue = Queue(store);
        var (id, _) = await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 0), Ct);
        var running = await TakeBuildSlotAsync(store, job);
        var now = store.Time.GetUtcNow().ToUnixTimeMilliseconds();

        Assert.Null(await store.Db.WriteAsync(s => queue.ClaimAsync(s, "built-in", now), Ct));
        Assert.Equal(QueueState.Queued, (await queue.FindAsync(id, Ct))!.State);

        await new BuildStore(store.Db, store.Secrets).FinishAsync(running, BuildResult.Success, now, Ct);
        var claimed = await store.Db.WriteAsync(s => queue.ClaimAsync(s, "node-2", now), Ct);
        Assert.Equal(id, claimed?.Id);
        Assert.Equal(QueueState.Left, claimed!.State);
        Assert.Equal(now, claimed.LeftAt);
        Assert.Equal("node-2", await store.Db.ReadAsync(s => s.ExecuteScalarAsync<string>("SELECT claimed_by FROM queue_item WHERE id = @id", new { id }), Ct));
        Assert.Null(await store.Db.WriteAsync(s => queue.ClaimAsync(s, "built-in", now), Ct));
    }

    [Fact]
    public async Task A_job_has_one_build_slot_and_finishing_its_build_frees_it()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("serial");
        var builds = new BuildStore(store.Db, store.Secrets);
        var first = await StartBuildAsync(store, job, 1);
        var second = await StartBuildAsync(store, job, 2);

        Assert.True(await store.Db.WriteAsync(s => BuildStore.TakeSlotAsync(s, first), Ct));
        Assert.False(await store.Db.WriteAsync(s => BuildStore.TakeSlotAsync(s, second), Ct));
        await builds.FinishAsync(first, BuildResult.Success, 0, Ct);
        Assert.True(await store.Db.WriteAsync(s => BuildStore.TakeSlotAsync(s, second), Ct));
    }

    static Task<Build> StartBuildAsync(TempStore store, Item job, long number) =>
        store.Db.WriteAsync(s => new BuildStore(store.Db, store.Secrets).StartAsync(s,
            new QueueItem(0, job.Id, QueueState.Left, 0, 0, null, [Remote], number, 0), number, 1, "/tmp/ws", "built-in", "this-server", 0), Ct);

    /// <summary>A running build of <paramref name="job"/> holding the job's build slot, as a claim leaves it.</summary>
    static async Task<Build> TakeBuildSlotAsync(TempStore store, Item job)
    {
        var build = await StartBuildAsync(store, job, 1);
        Assert.True(await store.Db.WriteAsync(s => BuildStore.TakeSlotAsync(s, build), Ct));
        return build;
    }

    [Fact]
    public async Task Requests_that_reach_the_writer_together_are_applied_in_arrival_order()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var parameterized = await store.CreateAsync("q", Parameterized);
        var queue = Queue(store);
        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
        var requests = new[]
        {
            queue.EnqueueAsync(job, null, Remote, InSeconds(store, 30), Ct),
            queue.EnqueueAsync(parameterized, Values("a", "b"), Remote, InSeconds(store, 5), Ct),
            queue.EnqueueAsync(job, null, Cause.Remote("10.0.0.8", "x"), InSeconds(store, 10), Ct),
            queue.EnqueueAsync(parameterized, Values("other", "b"), Remote, InSeconds(store, 5), Ct),
            queue.EnqueueAsync(job, null, Remote, InSeconds(store, 60), Ct),
            queue.EnqueueAsync(parameterized, Values("a", "b"), Remote, InSeconds(store, 5), Ct),
        };
        release.SetResult();
        await held;
        var results = await Task.WhenAll(requests);

        Assert.Equal([false, false, true, false, true, true], results.Select(r => r.Folded));
        Assert.Equal(3, results.Select(r => r.Id).Distinct().Count());
        Assert.True(results[0].Id < results[1].Id && results[1].Id < results[3].Id, "ids follow the order the requests came in");
        Assert.Equal(results[0].Id, results[2].Id);
        Assert.Equal(results[0].Id, results[4].Id);
        Assert.Equal(results[1].Id, results[5].Id);
        var item = (await queue.FindAsync(results[0].Id, Ct))!;
        Assert.Equal([Remote with { Count = 2 }, Cause.Remote("10.0.0.8", "x")], item.Causes);
        Assert.Equal(InSeconds(store, 10).ToUnixTimeMilliseconds(), item.DueAt);
        Assert.Equal(Remote with { Count = 2 }, Assert.Single((await queue.FindAsync(results[1].Id, Ct))!.Causes));
    }

    [Fact]
    public async Task A_once_only_request_whose_record_fails_queues_nothing_and_spares_the_requests_beside_it()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
        var plain = queue.EnqueueAsync(job, null, Remote, InSeconds(store, 5), Ct);
        var failing = queue.EnqueueOnceAsync(job, null, Cause.Timer, InSeconds(store, 5),
            _ => Task.FromResult(true), (_, _) => throw new InvalidOperationException("idempotency record failed"), Ct);
        release.SetResult();
        await held;

        Assert.False((await plain).Folded);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        var item = Assert.Single(await queue.QueuedAsync(Ct));
        Assert.Equal([Remote], item.Causes);
    }

    [Fact]
    public async Task A_job_at_its_limit_takes_no_new_item_until_one_leaves_and_still_folds()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p", Parameterized);
        var other = await store.CreateAsync("other", Parameterized);
        var queue = new BuildQueue(store.Db, store.Secrets, store.Time, new Valet.Core.Configuration.ServerSettings { MaxQueuedPerJob = 2 });
        var first = await queue.EnqueueAsync(job, Values("1", "b"), Remote, InSeconds(store, 5), Ct);
        await queue.EnqueueAsync(job, Values("2", "b"), Remote, InSeconds(store, 5), Ct);

        Assert.True((await queue.EnqueueAsync(job, Values("3", "b"), Remote, InSeconds(store, 5), Ct)).Full);
        Assert.True((await queue.EnqueueAsync(job, Values("1", "b"), Cause.Timer, InSeconds(store, 5), Ct)).Folded);
        Assert.False((await queue.EnqueueAsync(other, Values("3", "b"), Remote, InSeconds(store, 5), Ct)).Full);
        Assert.Equal(3, (await queue.QueuedAsync(Ct)).Count);

        await queue.CancelAsync(first.Id, Ct);
        var after = await queue.EnqueueAsync(job, Values("3", "b"), Remote, InSeconds(store, 5), Ct);

        Assert.False(after.Full);
        Assert.False(after.Folded);
        Assert.True((await queue.EnqueueAsync(job, Values("4", "b"), Remote, InSeconds(store, 5), Ct)).Full);
    }

    [Fact]
    public async Task A_once_only_request_whose_claim_fails_queues_nothing_and_records_nothing()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        var recorded = false;

        var result = await queue.EnqueueOnceAsync(job, null, Remote, InSeconds(store, 5),
            _ => Task.FromResult(false), (_, _) => { recorded = true; return Task.CompletedTask; }, Ct);

        Assert.Null(result);
        Assert.False(recorded);
        Assert.Empty(await queue.QueuedAsync(Ct));
    }

    [Fact]
    public async Task The_waiting_dispatcher_is_woken_only_by_items_due_before_it_would_wake_by_itself()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);

        // Waits 10 s (the fake clock stands still): an item due in an hour is found when it wakes.
        var waiting = queue.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct);
        await queue.EnqueueAsync(job, Values("later", "b"), Remote, InSeconds(store, 3600), Ct);
        Assert.NotSame(waiting, await Task.WhenAny(waiting, Task.Delay(300, Ct)));

        // An item due within those 10 s wakes it now, as does one folding in with an earlier due time.
        await queue.EnqueueAsync(job, Values("soon", "b"), Remote, InSeconds(store, 5), Ct);
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        waiting = queue.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct);
        await queue.EnqueueAsync(job, Values("later", "b"), Remote, InSeconds(store, 1), Ct);
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task An_item_queued_while_the_dispatcher_is_awake_makes_its_next_wait_return_at_once()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var queue = Queue(store);
        Assert.False(await queue.WaitForChangeAsync(TimeSpan.FromMilliseconds(10), Ct));

        // Between two waits the dispatcher may have looked at the queue already: any item wakes it.
        await queue.EnqueueAsync(job, null, Remote, InSeconds(store, 3600), Ct);
        Assert.True(await queue.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct));
    }
}

public sealed class BuildQueueOnPostgresTests : BuildQueueTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
