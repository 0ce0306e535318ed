using System.Runtime.InteropServices;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Valet.Core.Storage;

/// <summary>
/// The SQLite store: one server per home. Reads open a pooled connection each; every write goes through
/// one writer that commits concurrent writes together (group commit), and a caller is answered only
/// once its change is on disk, without paying one fsync per request.
/// </summary>
public sealed partial class SqliteDatabase : Database
{
    readonly string connectionString;
    // Both channels are read by a thread of their own, blocked until something arrives. Synchronous
    // continuations let the thread that writes wake it directly; otherwise each wake-up would first
    // wait in the thread pool's queue behind the requests being served, which a quiet write's answer
    // would pay for. Nothing but that wake-up runs on the writing thread.
    readonly Channel<PendingWrite> writes = Channel.CreateUnbounded<PendingWrite>(new() { SingleReader = true, AllowSynchronousContinuations = true });
    readonly ILogger<SqliteDatabase> logger;
    readonly Channel<List<PendingWrite>> committed = Channel.CreateUnbounded<List<PendingWrite>>(
        new() { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
    readonly TaskCompletionSource writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Thread? writer;

    public SqliteDatabase(string path, ILogger<SqliteDatabase> logger)
    {
        this.logger = logger;
        Path = path;
        LogPath = path + "-wal";
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

    /// <summary>SQLite's write-ahead log, beside the database file.</summary>
    string LogPath { get; }

    /// <summary>How much of the database file the writer maps into memory for reading.</summary>
    public const long WriterMemoryMap = 256L * 1024 * 1024;

    public override SqlDialect Dialect => SqlDialect.Sqlite;

    public override async Task OpenAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        await using (var conn = await OpenConnectionAsync(ct, synchronous: "FULL"))
        {
            await conn.ExecuteAsync("PRAGMA journal_mode=WAL;");
            await Migrator.ApplyAsync(conn, Dialect.Name, logger, ct);
        }
        // A thread of its own: the writer is the one serial step of every write, so it must not wait
        // for a thread-pool turn behind the requests it serves. Thread names fit Linux's 15
        // characters, so top -H and perf tell the three database threads apart.
        writer = new Thread(WriterLoop) { IsBackground = true, Name = "Valet db writer" };
        writer.Start();
        new Thread(SyncLoop) { IsBackground = true, Name = "Valet db sync" }.Start();
        StartCheckpointer();
    }

    async Task<SqliteConnection> OpenConnectionAsync(CancellationToken ct, string? synchronous = null)
    {
        var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(ct);
        // Only writers set the durability level; readers (pooled, opened per read) skip the round
        // trip. Busy waits come from the connection string's timeout.
        // Writers keep their temporary files (the savepoints' journals) in memory, where on disk each
        // large batch created, wrote and deleted one.
        if (synchronous is not null)
            await conn.ExecuteAsync($"PRAGMA synchronous={synchronous}; PRAGMA temp_store=MEMORY;");
        return conn;
    }

    public override async Task<T> ReadAsync<T>(Func<Session, Task<T>> read, CancellationToken ct)
    {
        await using var conn = await OpenConnectionAsync(ct);
        return await read(new Session(conn, null, null, ct));
    }

    /// <summary>
    /// Runs <paramref name="write"/> inside the writer's current transaction and returns once that
    /// transaction is committed. A write that throws is rolled back alone (savepoint); the other
    /// writes of the batch still commit. Writes run one at a time on the writer's thread: one that
    /// awaits something slow holds up the others.
    /// </summary>
    public override Task<T> WriteAsync<T>(Func<Session, Task<T>> write, CancellationToken ct)
    {
        if (flushFailure is not null)
            return Task.FromException<T>(Unavailable(flushFailure));
        var pending = new PendingWrite<T>(write, ct);
        if (!writes.Writer.TryWrite(pending))
            throw new ObjectDisposedException(nameof(SqliteDatabase));
        return pending.Completion.Task;
    }

    // Once a flush of the log failed, what the disk holds is unknown: no write is taken until restart.
    volatile Exception? flushFailure;

    /// <summary>Whether <paramref name="e"/> is the disk failing (full, I/O error, unreadable), not the write's own fault.</summary>
    static bool IsStorageFault(Exception e) =>
        e is IOException || e is SqliteException { SqliteErrorCode: 8 or 10 or 11 or 13 or 14 };

    StoreUnavailableException Unavailable(Exception e) => new($"The database {Path} cannot take writes: {e.Message}", e);

    /// <summary>The exception a write's caller gets: a storage fault as <see cref="StoreUnavailableException"/>, logged once.</summary>
    Exception Fault(Exception e)
    {
        if (!IsStorageFault(e))
            return e;
        if (Fail(e))
        {
            // A disk at the edge of full may refuse, take a write and refuse again: one Critical line
            // names the error, and refusals within the next minute are only warned about.
            var now = Environment.TickCount64;
            if (now >= quietCriticalUntil)
            {
                Log.StoreFailed(logger, e, Path);
                quietCriticalUntil = now + (long)CriticalQuietFor.TotalMilliseconds;
            }
            else
                Log.StoreFailedAgain(logger, e, Path);
        }
        return Unavailable(e);
    }

    static readonly TimeSpan CriticalQuietFor = TimeSpan.FromMinutes(1);
    long quietCriticalUntil = long.MinValue;

    static readonly Statement Savepoint = new("SAVEPOINT w");
    static readonly Statement Release = new("RELEASE w");
    static readonly Statement RollbackTo = new("ROLLBACK TO w");

    void WriterLoop()
    {
        try
        {
            // NORMAL: a commit appends to the write-ahead log without waiting for the disk; the sync
            // thread flushes the log before any write of the batch is answered (see SyncLoop).
            using var conn = OpenConnectionAsync(CancellationToken.None, synchronous: "NORMAL").GetAwaiter().GetResult();
            // Checkpoints run beside the writer (SqliteDatabase.Checkpoints.cs), not inside its commits. The
            // writer's lookups (the queue's row checks above all) read pages through a memory map, not
            // one pread each, which is a large share of its time under a stream of new queue items.
            conn.Execute($"PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit={LogSizeBeforeWriterCheckpoint}; PRAGMA mmap_size={WriterMemoryMap};");
            using var statements = new StatementCache(conn);
            var batch = new List<PendingWrite>();
            while (WaitToRead(writes.Reader))
            {
                batch.Clear();
                while (batch.Count < 512 && writes.Reader.TryRead(out var w))
                    batch.Add(w);
                CommitBatch(conn, statements, batch);
                CountLogPages(conn);
                KeepLogBounded(conn);
            }
        }
        catch (Exception e)
        {
            Log.WriterFailed(logger, e);
            Fail(e);
            writes.Writer.TryComplete(Unavailable(e));
            while (writes.Reader.TryRead(out var w))
                w.Fail(Unavailable(e));
        }
        finally
        {
            committed.Writer.TryComplete();
        }
    }

    static bool WaitToRead<T>(ChannelReader<T> reader)
    {
        var wait = reader.WaitToReadAsync();
        return wait.IsCompleted ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Answers committed writes once they are on disk: one flush of the write-ahead log covers every
    /// batch committed before it, and runs while the writer goes on with the next batch. SQLite in
    /// WAL mode with synchronous=NORMAL flushes the log itself before each checkpoint, so after this
    /// flush a commit survives a power loss as it would with synchronous=FULL.
    /// </summary>
    void SyncLoop()
    {
        SafeFileHandle? log = null;
        try
        {
            var ready = new List<PendingWrite>();
            while (WaitToRead(committed.Reader))
            {
                ready.Clear();
                while (committed.Reader.TryRead(out var batch))
                    ready.AddRange(batch);
                // Writes committed before a failed flush was seen: a later flush that succeeds proves
                // nothing of the pages the failed one lost (the kernel may have dropped them), and
                // recovery stops at the first frame missing from the log, so they are refused too.
                if (flushFailure is { } failed)
                {
                    foreach (var w in ready)
                        w.Fail(Unavailable(failed));
                    continue;
                }
                try
                {
                    // The log exists as long as the writer's connection is open; opened once and kept. A
                    // bare handle: a FileStream's handle getter seeks first, one more syscall per flush.
                    log ??= File.OpenHandle(LogPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                    FlushFault?.Invoke();
                    FlushData(log);
                }
                catch (Exception e)
                {
                    Log.SyncFailed(logger, e, ready.Count);
                    flushFailure = e;
                    Fail(e);
                    foreach (var w in ready)
                        w.Fail(Unavailable(e));
                    continue;
                }
                LogGrew();
                foreach (var w in ready)
                    w.Succeed();
            }
        }
        finally
        {
            log?.Dispose();
            writerStopped.TrySetResult();
        }
    }

    /// <summary>
    /// On Linux fdatasync, as SQLite syncs its own files: the log's data and size reach the disk
    /// without the timestamps fsync also writes, which cost an ext4 journal commit per flush.
    /// </summary>
    void FlushData(SafeFileHandle log)
    {
        if (!OperatingSystem.IsLinux())
            RandomAccess.FlushToDisk(log);
        else if (FdataSync(log) != 0)
            throw new IOException($"fdatasync of {LogPath} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// For tests: runs before each flush of the log, and what it throws is that flush failing, so a
    /// test in process can fail a flush at a chosen write; a real one needs a block device that fails.
    /// </summary>
    internal Action? FlushFault { get; set; }

    static long TotalChanges(SqliteConnection conn) => conn.ExecuteScalar<long>("SELECT total_changes()");

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    static extern int FdataSync(SafeFileHandle file);

    void CommitBatch(SqliteConnection conn, StatementCache statements, List<PendingWrite> batch)
    {
        var done = new List<PendingWrite>(batch.Count);
        Session? session = null;
        var changesBefore = flushFailure is null && Failure is not null ? TotalChanges(conn) : (long?)null;
        try
        {
            using var tx = conn.BeginTransaction();
            session = new Session(conn, tx, statements, CancellationToken.None);
            foreach (var w in batch)
            {
                if (w.Cancelled)
                {
                    w.Fail(new OperationCanceledException());
                    continue;
                }
                statements.Execute(Savepoint, tx);
                try
                {
                    // SQLite answers synchronously, so this waits only for a write that awaits something else.
                    w.RunAsync(session).GetAwaiter().GetResult();
                    statements.Execute(Release, tx);
                    done.Add(w);
                }
                catch (Exception e)
                {
                    statements.Execute(RollbackTo, tx);
                    statements.Execute(Release, tx);
                    w.Fail(Fault(e));
                }
            }
            tx.Commit();
        }
        catch (Exception e)
        {
            Log.CommitFailed(logger, e, batch.Count);
            // Every write of the batch, also those not yet run: a write whose statement ended the
            // transaction (ON CONFLICT ROLLBACK, RAISE(ROLLBACK)) must not leave the rest unanswered.
            var fault = Fault(e);
            foreach (var w in batch)
                w.Fail(fault);
            return;
        }
        finally
        {
            // Caches forget what the batch may have changed, committed or not: only after this
            // point can a reader see the new rows, so nothing stale is cached again.
            session?.RunAfterCommit();
        }
        // A full disk passes: the store takes writes again once one commits something (a failed flush
        // never does). A batch that changed no row appends nothing to the log, so it proves nothing.
        if (changesBefore is { } before && done.Count > 0 && TotalChanges(conn) > before)
            Recover();
        if (done.Count > 0)
            committed.Writer.TryWrite(done);
    }

    public override async ValueTask DisposeAsync()
    {
        writes.Writer.TryComplete();
        if (writer is not null)
        {
            await writerStopped.Task;
            await StopCheckpointerAsync();
        }
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

        [LoggerMessage(Level = LogLevel.Critical, Message = "Flushing the write-ahead log to disk failed; {Count} committed writes were answered 503 and no write is taken until Valet restarts")]
        public static partial void SyncFailed(ILogger logger, Exception e, int count);

        [LoggerMessage(Level = LogLevel.Critical, Message = "The database {Path} refuses writes: they answer 503 store-failed while this lasts")]
        public static partial void StoreFailed(ILogger logger, Exception e, string path);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The database {Path} refuses writes again, within a minute of taking them back: they answer 503 store-failed while this lasts")]
        public static partial void StoreFailedAgain(ILogger logger, Exception e, string path);

        [LoggerMessage(Level = LogLevel.Critical, Message = "The database writer stopped: no write can be committed until Valet restarts")]
        public static partial void WriterFailed(ILogger logger, Exception e);
    }
}

