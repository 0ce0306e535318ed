using Microsoft.Extensions.Logging.Abstractions;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Storage;

/// <summary>Checkpoints run beside the writer, and the writer keeps the write-ahead log bounded.</summary>
public sealed class DatabaseCheckpointTests : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly string dir = Path.Combine(Path.GetTempPath(), "valet-checkpoint-tests-" + Guid.NewGuid().ToString("N"));
    Database? db;

    string DatabaseFile => Path.Combine(dir, "valet.db");

    async Task<Database> OpenAsync(long logSizeBeforeWriterCheckpoint = 64L * 1024 * 1024)
    {
        db = new SqliteDatabase(DatabaseFile, NullLogger<SqliteDatabase>.Instance) { LogSizeBeforeWriterCheckpoint = logSizeBeforeWriterCheckpoint };
        await db.OpenAsync(Ct);
        await db.WriteAsync(s => s.ExecuteAsync("CREATE TABLE blob (id INTEGER PRIMARY KEY, data BLOB NOT NULL)"), Ct);
        return db;
    }

    // 16 KiB of noise: four pages that compress to nothing and share nothing with other rows.
    static Task InsertBlob(Database db) =>
        db.WriteAsync(s => s.ExecuteAsync("INSERT INTO blob (data) VALUES (@data)", new { data = Random.Shared.GetItems<byte>(new byte[256], 16 * 1024) }), Ct);

    [Fact]
    public async Task Committed_pages_reach_the_database_file_once_the_log_holds_enough_of_them()
    {
        var db = await OpenAsync();
        var before = new FileInfo(DatabaseFile).Length;
        // About 1 500 pages, past the 1 000 that start a background checkpoint. SQLite's own
        // checkpoint in a commit is off, and the writer's starts only at 64 MiB. The pages written
        // after the checkpoint started stay in the log: at least the first 100 rows are copied back.
        for (var i = 0; i < 300; i++)
            await InsertBlob(db);

        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (new FileInfo(DatabaseFile).Length < before + 100 * 16 * 1024 && TimeProvider.System.GetUtcNow() < deadline)
            await Task.Delay(20, Ct);
        Assert.True(new FileInfo(DatabaseFile).Length >= before + 100 * 16 * 1024,
            $"the database file holds {new FileInfo(DatabaseFile).Length} bytes: the log was not copied back");
        Assert.Equal(300L, await db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM blob"), Ct));
    }

    [Fact]
    public async Task A_few_writes_stay_in_the_log_so_the_next_write_does_not_start_it_over()
    {
        var db = await OpenAsync();
        for (var i = 0; i < 20; i++)
            await InsertBlob(db);
        var fileBefore = new FileInfo(DatabaseFile).Length;
        var headerBefore = LogHeader();

        // Several times the least pause between background checkpoints: one would have run by now.
        await Task.Delay(500, Ct);
        await InsertBlob(db);

        Assert.Equal(fileBefore, new FileInfo(DatabaseFile).Length);
        // Starting the log over writes a new header (new checkpoint sequence and salts), which SQLite
        // syncs inside that write's commit.
        Assert.Equal(headerBefore, LogHeader());
        Assert.Equal(21L, await db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM blob"), Ct));
    }

    byte[] LogHeader()
    {
        using var log = new FileStream(DatabaseFile + "-wal", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[32];
        log.ReadExactly(header);
        return header;
    }

    [Fact]
    public async Task Under_constant_writes_the_log_stays_near_its_bound()
    {
        const long bound = 1024 * 1024;
        var db = await OpenAsync(bound);
        // Eight writers without pause put about 25 MiB through the log, so the writer always has a
        // batch waiting and the log never empties by itself.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
                await InsertBlob(db);
        }, Ct)));

        var log = new FileInfo(DatabaseFile + "-wal").Length;
        // The bound is checked after each batch, and the writer's checkpoint waits while a background
        // one runs: the log may pass it by a few batches, far from the 25 MiB written.
        Assert.True(log < 4 * bound, $"the log grew to {log} bytes with a bound of {bound}");
        Assert.Equal(1600L, await db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM blob"), Ct));
    }

    [Fact]
    public async Task Everything_written_is_there_after_reopening()
    {
        var db = await OpenAsync(256 * 1024);
        await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => InsertBlob(db)));
        await db.DisposeAsync();

        var reopened = new SqliteDatabase(DatabaseFile, NullLogger<SqliteDatabase>.Instance);
        this.db = reopened;
        await reopened.OpenAsync(Ct);
        Assert.Equal(300L, await reopened.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM blob"), Ct));
        Assert.Equal("ok", await reopened.ReadAsync(s => s.ExecuteScalarAsync<string>("PRAGMA integrity_check"), Ct));
    }

    public async ValueTask DisposeAsync()
    {
        if (db is not null)
            await db.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }
}
