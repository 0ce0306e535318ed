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
/// </summary>
public sealed partial class Database
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

    /// <summary>The least time between two background checkpoints: each costs two disk flushes.</summary>
    static readonly TimeSpan CheckpointPause = TimeSpan.FromMilliseconds(100);

    readonly AutoResetEvent logGrew = new(false);
    readonly TaskCompletionSource checkpointerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly ManualResetEventSlim stopping = new();
    bool writerCheckpointsAlone;

    void StartCheckpointer() =>
        new Thread(CheckpointLoop) { IsBackground = true, Name = "Valet database checkpoint" }.Start();

    /// <summary>Called after each flush of the log: there may be pages to copy back.</summary>
    void LogGrew() => logGrew.Set();

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
        var log = new FileInfo(LogPath);
        if (!log.Exists || log.Length <= LogSizeBeforeWriterCheckpoint)
            return;
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
        LogGrew();
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
