using System.Data.Common;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Valet.Core.Storage;

/// <summary>
/// The one way to reach the database. Reads open a pooled connection each; every write goes through
/// one writer that commits concurrent writes together (group commit), so a caller is answered only
/// after its change is durable without paying one fsync per request.
/// </summary>
public sealed partial class Database : IAsyncDisposable
{
    readonly string connectionString;
    readonly Channel<PendingWrite> writes = Channel.CreateUnbounded<PendingWrite>(new() { SingleReader = true });
    readonly ILogger<Database> logger;
    Task? writerLoop;

    static Database() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public Database(string path, ILogger<Database> logger)
    {
        this.logger = logger;
        Path = path;
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
            ForeignKeys = true,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>SQLite has one writer, so a sub-select there is atomic without a lock clause.</summary>
    public string SkipLocked => "";

    public async Task OpenAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        await using (var conn = await OpenConnectionAsync(ct, writer: true))
        {
            await conn.ExecuteAsync("PRAGMA journal_mode=WAL;");
            await Migrator.ApplyAsync(conn, "sqlite", logger, ct);
        }
        writerLoop = Task.Run(WriterLoopAsync, CancellationToken.None);
    }

    async Task<SqliteConnection> OpenConnectionAsync(CancellationToken ct, bool writer = false)
    {
        var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(ct);
        // Only the writer commits, so only it needs the durable setting; readers (pooled, opened per
        // read) skip the round trip. Busy waits come from the connection string's timeout.
        if (writer)
            await conn.ExecuteAsync("PRAGMA synchronous=FULL;");
        return conn;
    }

    /// <summary>Runs a read on its own connection.</summary>
    public async Task<T> ReadAsync<T>(Func<Session, Task<T>> read, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await read(new Session(conn, null, ct));
    }

    /// <summary>
    /// Runs <paramref name="write"/> inside the writer's current transaction and returns once that
    /// transaction is committed. A write that throws is rolled back alone (savepoint) and its
    /// exception rethrown to its caller; the other writes of the batch still commit.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<Session, Task<T>> write, CancellationToken ct)
    {
        var pending = new PendingWrite<T>(write, ct);
        if (!writes.Writer.TryWrite(pending))
            throw new ObjectDisposedException(nameof(Database));
        return pending.Completion.Task;
    }

    public Task WriteAsync(Func<Session, Task> write, CancellationToken ct) =>
        WriteAsync<bool>(async s => { await write(s); return true; }, ct);

    async Task WriterLoopAsync()
    {
        await using var conn = await OpenConnectionAsync(CancellationToken.None, writer: true);
        var batch = new List<PendingWrite>();
        while (await writes.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < 512 && writes.Reader.TryRead(out var w))
                batch.Add(w);
            await CommitBatchAsync(conn, batch);
        }
    }

    async Task CommitBatchAsync(SqliteConnection conn, List<PendingWrite> batch)
    {
        var done = new List<PendingWrite>(batch.Count);
        Session? session = null;
        try
        {
            await using var tx = await conn.BeginTransactionAsync();
            session = new Session(conn, tx, CancellationToken.None);
            foreach (var w in batch)
            {
                if (w.Cancelled)
                {
                    w.Fail(new OperationCanceledException());
                    continue;
                }
                await conn.ExecuteAsync("SAVEPOINT w", transaction: tx);
                try
                {
                    await w.RunAsync(session);
                    await conn.ExecuteAsync("RELEASE w", transaction: tx);
                    done.Add(w);
                }
                catch (Exception e)
                {
                    await conn.ExecuteAsync("ROLLBACK TO w; RELEASE w", transaction: tx);
                    w.Fail(e);
                }
            }
            await tx.CommitAsync();
        }
        catch (Exception e)
        {
            Log.CommitFailed(logger, e, batch.Count);
            // Every write of the batch, also those not yet run: a write whose statement ended the
            // transaction (ON CONFLICT ROLLBACK, RAISE(ROLLBACK)) must not leave the rest unanswered.
            foreach (var w in batch)
                w.Fail(e);
            return;
        }
        finally
        {
            // Caches forget what the batch may have changed, committed or not: only after this
            // point can a reader see the new rows, so nothing stale is cached again.
            session?.RunAfterCommit();
        }
        foreach (var w in done)
            w.Succeed();
    }

    public async ValueTask DisposeAsync()
    {
        writes.Writer.TryComplete();
        if (writerLoop is not null)
            await writerLoop;
        SqliteConnection.ClearAllPools();
    }

    abstract class PendingWrite
    {
        public abstract bool Cancelled { get; }
        public abstract Task RunAsync(Session s);
        public abstract void Succeed();
        public abstract void Fail(Exception e);
    }

    sealed class PendingWrite<T>(Func<Session, Task<T>> write, CancellationToken ct) : PendingWrite
    {
        T? result;
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override bool Cancelled => ct.IsCancellationRequested;
        public override async Task RunAsync(Session s) => result = await write(s);
        public override void Succeed() => Completion.TrySetResult(result!);
        public override void Fail(Exception e) => Completion.TrySetException(e);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "A batch of {Count} writes failed to commit")]
        public static partial void CommitFailed(ILogger logger, Exception e, int count);
    }
}

/// <summary>A connection with the transaction it is in, if any: what stores run their SQL on.</summary>
public sealed class Session(DbConnection connection, DbTransaction? transaction, CancellationToken ct)
{
    List<Action>? afterCommit;

    /// <summary>Runs <paramref name="action"/> once the write's transaction has ended (a cache invalidation).</summary>
    public void AfterCommit(Action action) => (afterCommit ??= []).Add(action);

    internal void RunAfterCommit()
    {
        foreach (var action in afterCommit ?? [])
            action();
    }

    CommandDefinition Cmd(string sql, object? args) => new(sql, args, transaction, cancellationToken: ct);

    public Task<int> ExecuteAsync(string sql, object? args = null) => connection.ExecuteAsync(Cmd(sql, args));
    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args = null) => connection.QueryAsync<T>(Cmd(sql, args));
    public Task<T?> QueryFirstOrDefaultAsync<T>(string sql, object? args = null) => connection.QueryFirstOrDefaultAsync<T>(Cmd(sql, args));
    public Task<T> QuerySingleAsync<T>(string sql, object? args = null) => connection.QuerySingleAsync<T>(Cmd(sql, args));
    public Task<T?> ExecuteScalarAsync<T>(string sql, object? args = null) => connection.ExecuteScalarAsync<T>(Cmd(sql, args));
}
