using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Valet.Core.Storage;

/// <summary>
/// Checkpoints: copying committed pages from the write-ahead log back into the database file. SQLite
/// runs them inside the commit that fills the log, which held the writer for two disk flushes and a
/// few thousand page copies every few thousand queued items. Here a thread of their own runs them
/// beside the writer (SQLite's PASSIVE checkpoint needs no writer lock), and the writer steps in only
/// to keep the log bounded under sustained load.
/// <para>
/// A checkpoint waits until the log holds enough new pages. The first write after a checkpoint that
/// copied everything starts the log over, and SQLite syncs the log's new header inside that commit:
/// one more disk flush, in the writer, on that write's answer. Checkpointing after every few writes
/// put that flush on nearly every write of a lightly loaded server.
/// </para>
/// </summary>
public sealed partial class SqliteDatabase
{
    /// <summary>
    /// The log's size in bytes after which the writer checkpoints itself. The log starts over only
    /// when a write begins with every page of it copied back; under constant writes the background
    /// checkpoint is always a batch behind, so without this the log would only grow. By then the
    /// background has copied all but the last pages, so the writer's checkpoint is short. The log
    /// file is cut back to this size when it starts over (SQLite's journal_size_limit), so a longer
    /// file means a longer log.
    /// </summary>
    internal long LogSizeBeforeWriterCheckpoint { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// How many pages the writer appends to the log before the background checkpoint copies them
    /// back: SQLite's own default (its wal_autocheckpoint), about 4 MiB.
    /// </summary>
    const long LogPagesBeforeCheckpoint = 1000;

    /// <summary>SQLite's default page size, which Valet's databases keep.</summary>
    const long PageSize = 4096;

    /// <summary>The least time between two background checkpoints: each costs two disk flushes.</summary>
    static readonly TimeSpan CheckpointPause = TimeSpan.FromMilliseconds(100);

    readonly AutoResetEvent logGrew = new(false);
    readonly TaskCompletionSource checkpointerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly ManualResetEventSlim stopping = new();
    bool writerCheckpointsAlone;
    // Pages the writer has appended to the log since it opened (written by the writer only), and
    // their number when the last background checkpoint started.
    long logPagesWritten;
    long logPagesAtCheckpoint;
    // The page count when the writer last found the log within its bound.
    long logPagesAtSizeCheck;

    void StartCheckpointer() =>
        new Thread(CheckpointLoop) { IsBackground = true, Name = "Valet db ckpt" }.Start();

    /// <summary>In the writer, after each commit: counts the pages the commit appended to the log.</summary>
    void CountLogPages(SqliteConnection conn)
    {
        // Read and reset, so the count (an int in SQLite) never overflows.
        SQLitePCL.raw.sqlite3_db_status(conn.Handle, SQLitePCL.raw.SQLITE_DBSTATUS_CACHE_WRITE, out var pages, out _, 1);
        Volatile.Write(ref logPagesWritten, logPagesWritten + pages);
    }

    /// <summary>Called after each flush of the log: wakes the checkpoint once enough pages wait to be copied back.</summary>
    void LogGrew()
    {
        if (Volatile.Read(ref logPagesWritten) - Volatile.Read(ref logPagesAtCheckpoint) >= LogPagesBeforeCheckpoint)
            logGrew.Set();
    }

    void CheckpointLoop()
    {
        try
        {
            // NORMAL: the checkpoint flushes the log before copying from it and the database file
            // after, the order that keeps every answered commit on disk.
            using var conn = OpenConnectionAsync(CancellationToken.None, synchronous: "NORMAL").GetAwaiter().GetResult();
            while (true)
            {
                logGrew.WaitOne();
                if (stopping.IsSet)
                    return;
                Volatile.Write(ref logPagesAtCheckpoint, Volatile.Read(ref logPagesWritten));
                try
                {
                    Checkpoint(conn);
                }
                catch (SqliteException e)
                {
                    // Nothing is lost: the pages stay in the log, and the next checkpoint copies them.
                    Log.CheckpointFailed(logger, e);
                }
                if (stopping.Wait(CheckpointPause))
                    return;
            }
        }
        catch (Exception e)
        {
            Log.CheckpointerStopped(logger, e);
        }
        finally
        {
            checkpointerStopped.TrySetResult();
        }
    }

    /// <summary>In the writer, between batches: checkpoints only when the log has outgrown its bound.</summary>
    void KeepLogBounded(SqliteConnection conn)
    {
        if (checkpointerStopped.Task.IsCompleted && !stopping.IsSet && !writerCheckpointsAlone)
        {
            // Without the checkpoint thread, SQLite's own checkpoints in the commit take over.
            conn.Execute("PRAGMA wal_autocheckpoint=1000");
            writerCheckpointsAlone = true;
        }
        // The file grows only as pages are appended: its length is looked at (a stat call) once per
        // 1/64 of the bound appended, not after every batch.
        if ((logPagesWritten - logPagesAtSizeCheck) * PageSize < LogSizeBeforeWriterCheckpoint / 64)
            return;
        var log = new FileInfo(LogPath);
        if (!log.Exists || log.Length <= LogSizeBeforeWriterCheckpoint)
        {
            logPagesAtSizeCheck = logPagesWritten;
            return;
        }
        try
        {
            // Busy while the background checkpoint runs: then it is tried again after the next batch.
            Checkpoint(conn);
        }
        catch (SqliteException e)
        {
            Log.CheckpointFailed(logger, e);
        }
    }

    /// <summary>Copies back what the log holds when it starts, unless another checkpoint runs.</summary>
    static void Checkpoint(SqliteConnection conn) => conn.Execute("PRAGMA wal_checkpoint(PASSIVE)");

    async Task StopCheckpointerAsync()
    {
        stopping.Set();
        logGrew.Set();
        await checkpointerStopped.Task;
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "A checkpoint of the write-ahead log failed; its pages stay in the log until the next one")]
        public static partial void CheckpointFailed(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Error, Message = "The checkpoint thread stopped: the writer alone copies the write-ahead log back from now on")]
        public static partial void CheckpointerStopped(ILogger logger, Exception e);
    }
}
