using Dapper;
using Microsoft.Data.Sqlite;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Storage;

/// <summary>The SQLite store's writer; PostgresDatabaseTests covers the PostgreSQL store.</summary>
public sealed class DatabaseTests
{
    static StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static async Task<List<long>> ProbeValuesAsync(Database db) =>
        (await db.ReadAsync(s => s.QueryAsync<long>("SELECT v FROM probe ORDER BY v"), Ct)).ToList();

    static Task CreateProbeAsync(Database db) =>
        db.WriteAsync(s => s.ExecuteAsync("CREATE TABLE probe (v INTEGER NOT NULL UNIQUE)"), Ct);

    static Task Insert(Database db, long v) => db.WriteAsync(s => s.ExecuteAsync("INSERT INTO probe (v) VALUES (@v)", new { v }), Ct);

    [Fact]
    public async Task Opening_applies_the_migrations_and_creates_the_schema()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var tables = (await store.Db.ReadAsync(s => s.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"), Ct)).ToList();
        foreach (var table in new[] { "build", "installation", "item", "job_token", "queue_item", "schema_version", "user_account" })
            Assert.Contains(table, tables);
        Assert.Equal(MigrationVersions(), await store.Db.ReadAsync(s => s.QueryAsync<long>("SELECT version FROM schema_version ORDER BY version"), Ct));
    }

    /// <summary>The numbers of the SQLite migration scripts shipped in Valet.Core, in order.</summary>
    static List<long> MigrationVersions() => typeof(Database).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("Valet.Core.Storage.Migrations.sqlite.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
        .Select(n => long.Parse(n.Split('.')[^2].Split('_')[0], System.Globalization.CultureInfo.InvariantCulture))
        .Order().ToList();

    [Fact]
    public async Task The_writer_reads_the_database_file_through_a_memory_map()
    {
        // SQLite caps the map at its compile-time limit: a build without memory maps answers 0 here.
        await using var store = await TempStore.OpenAsync(Engine);
        var size = await store.Db.WriteAsync(s => s.QueryFirstOrDefaultAsync<long>("PRAGMA mmap_size"), Ct);
        Assert.Equal(SqliteDatabase.WriterMemoryMap, size);
    }

    [Fact]
    public async Task Reopening_applies_no_migration_twice_and_keeps_the_data()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        await store.CreateAsync("dir/p");
        await store.ReopenAsync();
        await store.ReopenAsync();
        Assert.Equal(MigrationVersions().Count, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM schema_version"), Ct));
        Assert.NotNull(await store.Items.FindAsync("DIR/P", Ct));
    }

    [Fact]
    public async Task The_database_runs_in_wal_mode_with_foreign_keys()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        Assert.Equal("wal", await store.Db.ReadAsync(s => s.ExecuteScalarAsync<string>("PRAGMA journal_mode"), Ct));
        Assert.Equal(1L, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("PRAGMA foreign_keys"), Ct));
        Assert.Equal(2L, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("PRAGMA synchronous"), Ct));
    }

    [Fact]
    public async Task Many_concurrent_writes_all_complete_and_are_all_visible_after()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        await CreateProbeAsync(store.Db);
        await Task.WhenAll(Enumerable.Range(1, 500).Select(v => Task.Run(() => Insert(store.Db, v), Ct)));
        Assert.Equal(Enumerable.Range(1, 500).Select(v => (long)v), await ProbeValuesAsync(store.Db));
    }

    [Fact]
    public async Task A_write_returns_its_result_once_committed()
    {
        await using var store = await TempStore.OpenAsync(Engine);
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
        await using var store = await TempStore.OpenAsync(Engine);
        await CreateProbeAsync(store.Db);
        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
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
        await using var store = await TempStore.OpenAsync(Engine);
        await CreateProbeAsync(store.Db);
        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
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
        await using var store = await TempStore.OpenAsync(Engine);
        await CreateProbeAsync(store.Db);
        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
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
        var store = await TempStore.OpenAsync(Engine);
        var db = store.Db;
        await store.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = db.WriteAsync(_ => Task.CompletedTask, Ct); });
    }

    enum Colour { Red = 1, Blue = 2 }

    sealed record Row(long Id, string? Name, long Flag, long Colour);

    static readonly Statement InsertRow = new("INSERT INTO row (name, flag, colour) VALUES (@Name, @Flag, @Colour) RETURNING id");
    static readonly Statement RowById = new("SELECT id, name, flag, colour FROM row WHERE id = @Id");

    [Fact]
    public async Task A_statement_binds_the_properties_of_its_argument_by_name_each_time_it_runs()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        await store.Db.WriteAsync(s => s.ExecuteAsync("CREATE TABLE row (id INTEGER PRIMARY KEY, name TEXT NULL, flag INTEGER NOT NULL, colour INTEGER NOT NULL)"), Ct);

        // The same prepared statement, run again with other values (null, bool, enum) in one batch and across batches.
        var (held, release) = await TempStore.HoldWriterAsync(store.Db);
        var first = store.Db.WriteAsync(s => s.QueryFirstOrDefaultAsync<long>(InsertRow, new { Name = (string?)"a", Flag = true, Colour = Colour.Blue }), Ct);
        var second = store.Db.WriteAsync(s => s.QueryFirstOrDefaultAsync<long>(InsertRow, new { Name = (string?)null, Flag = false, Colour = Colour.Red }), Ct);
        release.SetResult();
        await held;
        var third = await store.Db.WriteAsync(s => s.QueryFirstOrDefaultAsync<long>(InsertRow, new { Colour = 7L, Flag = 1L, Name = "c" }), Ct);

        Assert.Equal(new Row(await first, "a", 1, 2), await store.Db.ReadAsync(s => s.QueryFirstOrDefaultAsync<Row>(RowById, new { Id = first.Result }), Ct));
        Assert.Equal(new Row(await second, null, 0, 1), await store.Db.ReadAsync(s => s.QueryFirstOrDefaultAsync<Row>(RowById, new { Id = second.Result }), Ct));
        Assert.Equal(new Row(third, "c", 1, 7), await store.Db.WriteAsync(s => s.QueryFirstOrDefaultAsync<Row>(RowById, new { Id = third }), Ct));
        Assert.Null(await store.Db.WriteAsync(s => s.QueryFirstOrDefaultAsync<Row>(RowById, new { Id = 99L }), Ct));
    }

    [Fact]
    public async Task A_statement_that_fails_leaves_the_writer_able_to_run_it_again()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        await CreateProbeAsync(store.Db);
        var insert = new Statement("INSERT INTO probe (v) VALUES (@V)");
        await store.Db.WriteAsync(s => s.ExecuteAsync(insert, new { V = 1L }), Ct);
        await Assert.ThrowsAsync<SqliteException>(() => store.Db.WriteAsync(s => s.ExecuteAsync(insert, new { V = 1L }), Ct));
        await store.Db.WriteAsync(s => s.ExecuteAsync(insert, new { V = 2L }), Ct);
        Assert.Equal([1L, 2L], await ProbeValuesAsync(store.Db));
    }
}
