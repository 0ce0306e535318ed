using Valet.Core.Storage;

namespace Valet.Core.Execution;

/// <summary>
/// Consoles on a shared store: each build's console as rows of console_chunk, keyed by the offset of
/// their first byte, so every server reads any console by offset while it grows, wherever the build
/// runs. A writer stores what arrived at most every <see cref="Interval"/> or <see cref="ChunkSize"/>
/// bytes, so a chatty build costs a few writes a second, not one per line.
/// </summary>
public sealed class ConsoleChunks(Database db, TimeProvider time)
{
    public const int ChunkSize = 64 * 1024;
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    // Rows per read while copying: at most 512 KiB held per reader, however long the console.
    const int PageRows = 8;

    sealed record Tail(long ByteOffset, long Length, byte[] Bytes);

    sealed record Chunk(long ByteOffset, byte[] Data);

    public Writer Write(long jobId, long number, long offset) => new(db, time, jobId, number, offset);

    /// <summary>How many bytes the database holds of the console.</summary>
    public Task<long> SizeAsync(long jobId, long number, CancellationToken ct) =>
        db.ReadAsync(s => s.ExecuteScalarAsync<long>(
            """
            SELECT COALESCE((SELECT byte_offset + octet_length(data) FROM console_chunk
                             WHERE job_id = @jobId AND number = @number ORDER BY byte_offset DESC LIMIT 1), 0)
            """, new { jobId, number }), ct);

    public async Task<ConsoleRange> RangeAsync(long jobId, long number, long start, CancellationToken ct)
    {
        // Every chunk holds at least a byte, so the last four chunks' last four bytes hold the last four of the console.
        var tails = (await db.ReadAsync(s => s.QueryAsync<Tail>(
            """
            SELECT byte_offset, octet_length(data)::bigint AS length, substring(data FROM greatest(octet_length(data) - 3, 1)) AS bytes
            FROM console_chunk WHERE job_id = @jobId AND number = @number ORDER BY byte_offset DESC LIMIT 4
            """, new { jobId, number }), ct)).ToList();
        if (tails.Count == 0)
            return new(start, start);
        var end = tails[0].ByteOffset + tails[0].Length;
        if (start >= end)
            return new(start, start);
        var from = Math.Max(start, end - 4);
        var window = new byte[end - from];
        foreach (var t in tails)
        {
            var tailEnd = t.ByteOffset + t.Length;
            var tailStart = tailEnd - t.Bytes.Length;
            for (var at = Math.Max(from, tailStart); at < Math.Min(end, tailEnd); at++)
                window[at - from] = t.Bytes[at - tailStart];
        }
        return new(start, ConsoleLogs.CharacterBoundary(window, end));
    }

    /// <summary>Copies the bytes from <paramref name="start"/> to <paramref name="end"/> (or the console's end), a page of chunks at a time.</summary>
    public async Task CopyToAsync(long jobId, long number, long start, long end, Stream destination, CancellationToken ct)
    {
        // The chunk holding start is the last one beginning at or before it.
        var from = await db.ReadAsync(s => s.ExecuteScalarAsync<long>(
            """
            SELECT COALESCE((SELECT byte_offset FROM console_chunk WHERE job_id = @jobId AND number = @number AND byte_offset <= @start
                             ORDER BY byte_offset DESC LIMIT 1), 0)
            """, new { jobId, number, start }), ct);
        while (true)
        {
            var page = (await db.ReadAsync(s => s.QueryAsync<Chunk>(
                """
                SELECT byte_offset, data FROM console_chunk
                WHERE job_id = @jobId AND number = @number AND byte_offset >= @from AND byte_offset < @end
                ORDER BY byte_offset LIMIT @PageRows
                """, new { jobId, number, from, end, PageRows }), ct)).ToList();
            foreach (var chunk in page)
            {
                var lo = Math.Max(start, chunk.ByteOffset) - chunk.ByteOffset;
                var hi = Math.Min(end - chunk.ByteOffset, chunk.Data.Length);
                if (hi > lo)
                    await destination.WriteAsync(chunk.Data.AsMemory((int)lo, (int)(hi - lo)), ct);
            }
            if (page.Count < PageRows)
                return;
            from = page[^1].ByteOffset + 1;
        }
    }

    /// <summary>
    /// Stores one console's bytes as they arrive: a chunk once <see cref="ChunkSize"/> bytes wait or
    /// <see cref="Interval"/> after the first of them, and what is left on dispose. A failed store is
    /// tried again at the next interval, so the database being away for a moment loses nothing; the
    /// step's output is never held up by an error, and the build fails at its end if output was lost.
    /// </summary>
    public sealed class Writer : IAsyncDisposable
    {
        // Past this much output the database has not taken, the rest is dropped (and the build fails
        // at its end) rather than held in memory without bound.
        const int MaxPending = 16 * 1024 * 1024;

        const string Insert = """
            INSERT INTO console_chunk (job_id, number, byte_offset, data) VALUES (@jobId, @number, @byteOffset, @data)
            ON CONFLICT (job_id, number, byte_offset) DO NOTHING
            """;

        readonly Database db;
        readonly long jobId;
        readonly long number;
        readonly ITimer timer;
        // One store at a time, so chunks are stored in order and a reader never sees a gap.
        readonly SemaphoreSlim storing = new(1, 1);
        readonly Lock gate = new();
        MemoryStream pending = new();
        long offset;
        long dropped;
        bool disposed;
        Exception? failure;

        internal Writer(Database db, TimeProvider time, long jobId, long number, long offset)
        {
            this.db = db;
            this.jobId = jobId;
            this.number = number;
            this.offset = offset;
            timer = time.CreateTimer(_ => _ = StoreAsync(final: false), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public async Task AppendAsync(ReadOnlyMemory<byte> bytes)
        {
            bool full;
            lock (gate)
            {
                // Once something was dropped, what the database holds stays a true beginning of the console.
                if (dropped > 0 || pending.Length + bytes.Length > MaxPending)
                {
                    dropped += bytes.Length;
                    return;
                }
                if (pending.Length == 0)
                    Arm();
                pending.Write(bytes.Span);
                full = pending.Length >= ChunkSize;
            }
            if (full)
                await StoreAsync(final: false);
        }

        async Task StoreAsync(bool final)
        {
            await storing.WaitAsync();
            try
            {
                byte[] data;
                long at;
                lock (gate)
                {
                    if (pending.Length == 0)
                        return;
                    data = pending.ToArray();
                    at = offset;
                }
                try
                {
                    await db.WriteAsync(async s =>
                    {
                        for (var i = 0; i < data.Length; i += ChunkSize)
                            await s.ExecuteAsync(Insert, new { jobId, number, byteOffset = at + i, data = data[i..Math.Min(data.Length, i + ChunkSize)] });
                    }, CancellationToken.None);
                }
                catch (Exception e) when (!final)
                {
                    failure = e;
                    lock (gate)
                        Arm();
                    return;
                }
                lock (gate)
                {
                    var rest = new MemoryStream();
                    rest.Write(pending.GetBuffer(), data.Length, (int)pending.Length - data.Length);
                    pending = rest;
                    offset += data.Length;
                    failure = null;
                    // What arrived during the store found the timer unarmed.
                    if (rest.Length > 0)
                        Arm();
                }
            }
            finally
            {
                storing.Release();
            }
        }

        // Under the gate. Once disposed, the last store is the writer's own.
        void Arm()
        {
            if (!disposed)
                timer.Change(Interval, Timeout.InfiniteTimeSpan);
        }

        /// <summary>Stores what is left; throws when the database did not take the whole console.</summary>
        public async ValueTask DisposeAsync()
        {
            lock (gate)
                disposed = true;
            await timer.DisposeAsync();
            await StoreAsync(final: true);
            if (dropped > 0)
                throw new IOException($"{dropped} bytes of console output could not be stored in the database: {failure?.Message}", failure);
        }
    }
}
