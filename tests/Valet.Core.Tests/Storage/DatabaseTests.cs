using Dapper;
using Microsoft.Data.Sqlite;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Storage;

public sealed class DatabaseTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static async Task<List<long>> ProbeValuesAsync(Database db) =>
        (await db.ReadAsync(s => s.QueryAsync<long>("SELECT v FROM probe ORDER BY v"), Ct)).ToList();

    static Task CreateProbeAsync(Database db) =>
        db.WriteAsync(s => s.ExecuteAsync("CREATE TABLE probe (v INTEGER NOT NULL UNIQUE)"), Ct);

    static Task Insert(Database db, long v) => db.WriteAsync(s => s.ExecuteAsync("INSERT INTO probe (v) VALUES (@v)", new { v }), Ct);

    /// <summary>Holds the writer inside a write until released, so the writes queued meanwhile commit as one batch.</summary>
    static async Task<(Task Held, TaskCompletionSource Release)> HoldWriterAsync(Database db)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = db.WriteAsync(async _ =>
        {
            entered.SetResult();
            await release.Task;
        }, Ct);
        await entered.Task.WaitAsync(Ct);
        return (held, release);
    }

    [Fact]
    public async Task Opening_applies_the_migrations_and_creates_the_schema()
    {
        await using var store = await TempStore.OpenAsync();
        var tables = (await store.Db.ReadAsync(s => s.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"), Ct)).ToList();
        foreach (var table in new[] { "build", "item", "job_token", "queue_item", "schema_version", "user_account" })
            Assert.Contains(table, tables);
        Assert.Equal(MigrationVersions(), await store.Db.ReadAsync(s => s.QueryAsync<long>("SELECT version FROM schema_version ORDER BY version"), Ct));
    }

    /// <summary>The numbers of the migration scripts shipped in Valet.Core, in order.</summary>
    static List<long> MigrationVersions() => typeof(Database).Assembly.GetManifestResourceNames()
        .Where(n => n.EndsWith(".sql", StringComparison.Ordinal))
        .Select(n => long.Parse(n.Split('.')[^2].Split('_')[0], System.Globalization.CultureInfo.InvariantCulture))
        .Order().ToList();

    [Fact]
    public async Task Reopening_applies_no_migration_twice_and_keeps_the_data()
    {
        await using var store = await TempStore.OpenAsync();
        await store.CreateAsync("dir/p");
        await store.ReopenAsync();
        await store.ReopenAsync();
        Assert.Equal(MigrationVersions().Count, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM schema_version"), Ct));
        Assert.NotNull(await store.Items.FindAsync("DIR/P", Ct));
    }

    [Fact]
    public async Task The_database_runs_in_wal_mode_with_foreign_keys()
    {
        await using var store = await TempStore.OpenAsync();
        Assert.Equal("wal", await store.Db.ReadAsync(s => s.ExecuteScalarAsync<string>("PRAGMA journal_mode"), Ct));
        Assert.Equal(1L, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("PRAGMA foreign_keys"), Ct));
        Assert.Equal(2L, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("PRAGMA synchronous"), Ct));
    }

    [Fact]
    public async Task Many_concurrent_writes_all_complete_and_are_all_visible_after()
    {
        await using var store = await TempStore.OpenAsync();
        await CreateProbeAsync(store.Db);
        await Task.WhenAll(Enumerable.Range(1, 500).Select(v => Task.Run(() => Insert(store.Db, v), Ct)));
        Assert.Equal(Enumerable.Range(1, 500).Select(v => (long)v), await ProbeValuesAsync(store.Db));
    }

    [Fact]
    public async Task A_write_returns_its_result_once_committed()
    {
        await using var store = await TempStore.OpenAsync();
        await CreateProbeAsync(store.Db);
        var id = await store.Db.WriteAsync(s => s.QuerySingleAsync<long>("INSERT INTO probe (v) VALUES (41) RETURNING v + 1"), Ct);
        Assert.Equal(42, id);
        await using var raw = new SqliteConnection($"Data Source={store.Home.DatabaseFile}");
        await raw.OpenAsync(Ct);
        Assert.Equal(41L, await raw.ExecuteScalarAsync<long>("SELECT v FROM probe"));
    }

    [Fact]
    public async Task A_write_that_throws_rolls_back_alone_and_its_caller_gets_the_exception()
    {
        await using var store = await TempStore.OpenAsync();
        await CreateProbeAsync(store.Db);
        var (held, release) = await HoldWriterAsync(store.Db);
        var first = Insert(store.Db, 1);
        var failing = store.Db.WriteAsync(async s =>
        {
            await s.ExecuteAsync("INSERT INTO probe (v) VALUES (2)");
            throw new InvalidOperationException("write 2 failed");
        }, Ct);
        var duplicate = Insert(store.Db, 1);
        var last = Insert(store.Db, 3);
        release.SetResult();

        await held;
        await first;
        await last;
        Assert.Equal("write 2 failed", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
        Assert.Equal(19, (await Assert.ThrowsAsync<SqliteException>(() => duplicate)).SqliteErrorCode);
        Assert.Equal([1L, 3L], await ProbeValuesAsync(store.Db));
    }

    [Fact]
    public async Task A_write_that_ends_the_transaction_fails_its_batch_instead_of_leaving_writes_unanswered()
    {
        await using var store = await TempStore.OpenAsync();
        await CreateProbeAsync(store.Db);
        var (held, release) = await HoldWriterAsync(store.Db);
        var before = Insert(store.Db, 1);
        var breaking = store.Db.WriteAsync(s => s.ExecuteAsync("INSERT INTO probe (v) VALUES (2); INSERT OR ROLLBACK INTO probe (v) VALUES (2)"), Ct);
        var after = Insert(store.Db, 3);
        release.SetResult();
        await held;

        var all = Task.WhenAll(before, breaking, after);
        await Assert.ThrowsAnyAsync<Exception>(() => all.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.True(all.IsCompleted, "every write of the batch is answered");
        Assert.Empty(await ProbeValuesAsync(store.Db));

        await Insert(store.Db, 4);
        Assert.Equal([4L], await ProbeValuesAsync(store.Db));
    }

    [Fact]
    public async Task A_write_cancelled_before_it_runs_is_not_applied()
    {
        await using var store = await TempStore.OpenAsync();
        await CreateProbeAsync(store.Db);
        var (held, release) = await HoldWriterAsync(store.Db);
        using var cts = new CancellationTokenSource();
        var cancelled = store.Db.WriteAsync(s => s.ExecuteAsync("INSERT INTO probe (v) VALUES (1)"), cts.Token);
        var kept = Insert(store.Db, 2);
        await cts.CancelAsync();
        release.SetResult();
        await held;
        await kept;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal([2L], await ProbeValuesAsync(store.Db));
    }

    [Fact]
    public async Task Writes_after_dispose_are_refused()
    {
        var store = await TempStore.OpenAsync();
        var db = store.Db;
        await store.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = db.WriteAsync(_ => Task.CompletedTask, Ct); });
    }
}
