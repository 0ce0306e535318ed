using Microsoft.Extensions.Logging;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Storage;

/// <summary>
/// limits.md §5: a failed flush of SQLite's write-ahead log makes the store refuse writes until it is
/// opened again; what was acknowledged before is kept. The flush fails through the store's seam
/// (<see cref="SqliteDatabase.FlushFault"/>); SqliteFaultTests in the server tests fail one for real,
/// through HTTP.
/// </summary>
public sealed class FlushFailureTests : IDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly string dir = Path.Combine(Path.GetTempPath(), "valet-flush-tests-" + Guid.NewGuid().ToString("N"));

    string DatabaseFile => Path.Combine(dir, "valet.db");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    sealed class Lines : ILogger<SqliteDatabase>
    {
        public List<(LogLevel Level, string Text)> Logged { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Logged)
                Logged.Add((logLevel, formatter(state, exception) + " " + exception?.Message));
        }
    }

    static Task Insert(Database db, int x) => db.WriteAsync(s => s.ExecuteAsync("INSERT INTO t (x) VALUES (@x)", new { x }), Ct);

    [Fact]
    public async Task A_failed_flush_refuses_every_write_until_the_store_is_opened_again_and_keeps_what_was_acknowledged()
    {
        var log = new Lines();
        var db = new SqliteDatabase(DatabaseFile, log);
        await db.OpenAsync(Ct);
        await db.WriteAsync(s => s.ExecuteAsync("CREATE TABLE t (x INTEGER NOT NULL)"), Ct);
        await Insert(db, 1);
        Assert.Null(db.Failure);

        db.FlushFault = () => throw new IOException("fdatasync of valet.db-wal failed: errno 5");
        var refused = await Assert.ThrowsAsync<StoreUnavailableException>(() => Insert(db, 2));
        Assert.Contains("errno 5", refused.Message, StringComparison.Ordinal);
        Assert.Contains("errno 5", db.Failure, StringComparison.Ordinal);

        // The disk flushes again, but what it holds is unknown: writes stay refused, and are not run.
        db.FlushFault = null;
        await Assert.ThrowsAsync<StoreUnavailableException>(() => Insert(db, 3));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => Insert(db, 4));
        Assert.NotNull(db.Failure);
        var critical = Assert.Single(log.Logged, l => l.Level == LogLevel.Critical);
        Assert.Contains("errno 5", critical.Text, StringComparison.Ordinal);
        await db.DisposeAsync();

        await using var reopened = new SqliteDatabase(DatabaseFile, log);
        await reopened.OpenAsync(Ct);
        Assert.Null(reopened.Failure);
        await Insert(reopened, 5);
        var kept = (await reopened.ReadAsync(s => s.QueryAsync<long>("SELECT x FROM t ORDER BY x"), Ct)).ToList();
        Assert.Contains(1, kept);
        Assert.Contains(5, kept);
        Assert.DoesNotContain(3, kept);
        Assert.DoesNotContain(4, kept);
        Assert.Equal("ok", await reopened.ReadAsync(s => s.ExecuteScalarAsync<string>("PRAGMA integrity_check"), Ct));
    }
}
