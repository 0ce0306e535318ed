using System.Text;
using Valet.Core.Storage;

namespace Valet.Core.Execution;

/// <summary>
/// A build's console: an append-only file, flushed as output arrives so readers see it while the build
/// runs. With secrets to mask, output is written line by line so a secret is never split across writes.
/// On a shared store the same bytes also go to the database in chunks (<see cref="ConsoleChunks"/>),
/// which is where every server reads them from.
/// </summary>
public sealed class ConsoleWriter : IAsyncDisposable
{
    readonly FileStream file;
    readonly SecretMasker masker;
    readonly ConsoleChunks.Writer? chunks;
    readonly MemoryStream pending = new();
    byte? lastByte;

    public ConsoleWriter(string path, SecretMasker masker) : this(path, masker, chunks: null, truncate: false)
    {
    }

    internal ConsoleWriter(string path, SecretMasker masker, ConsoleChunks.Writer? chunks, bool truncate)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        file = new FileStream(path, truncate ? FileMode.Create : FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
        this.masker = masker;
        this.chunks = chunks;
    }

    public async Task WriteLineAsync(string line)
    {
        await FlushPendingAsync();
        await WriteTextAsync(masker.Apply(line) + "\n");
    }

    /// <summary>A line written as it is: the build's causes, which name who started it, not its secrets.</summary>
    internal async Task WriteUnmaskedLineAsync(string line)
    {
        await FlushPendingAsync();
        await WriteTextAsync(line + "\n");
    }

    /// <summary>Raw output of a step.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        if (masker.IsEmpty)
        {
            if (bytes.Length == 0)
                return;
            await AppendAsync(bytes);
            return;
        }
        var span = bytes;
        int newline;
        while ((newline = span.Span.IndexOf((byte)'\n')) >= 0)
        {
            pending.Write(span.Span[..(newline + 1)]);
            span = span[(newline + 1)..];
            await FlushPendingAsync();
        }
        pending.Write(span.Span);
        // A very long line without a newline is written in pieces rather than held forever.
        if (pending.Length > 64 * 1024)
            await FlushPendingAsync();
    }

    async Task FlushPendingAsync()
    {
        if (pending.Length == 0)
            return;
        var text = Encoding.UTF8.GetString(pending.GetBuffer(), 0, (int)pending.Length);
        pending.SetLength(0);
        await WriteTextAsync(masker.Apply(text));
    }

    async Task WriteTextAsync(string text)
    {
        if (text.Length == 0)
            return;
        // The last encoded byte, not the last char cast to a byte: 'Ċ' (U+010A) would pass for '\n'.
        await AppendAsync(Encoding.UTF8.GetBytes(text));
    }

    async Task AppendAsync(ReadOnlyMemory<byte> bytes)
    {
        await file.WriteAsync(bytes);
        await file.FlushAsync();
        lastByte = bytes.Span[^1];
        if (chunks is not null)
            await chunks.AppendAsync(bytes);
    }

    /// <summary>Ends a partial last line of step output.</summary>
    public async Task EndOutputAsync()
    {
        await FlushPendingAsync();
        if (lastByte is not null and not (byte)'\n')
            await WriteTextAsync("\n");
    }

    /// <summary>
    /// Writes what is left and, on a shared store, stores the last chunk: once this returns, every
    /// server reads the whole console. Throws when the database did not take all of it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await FlushPendingAsync();
        }
        finally
        {
            await file.DisposeAsync();
            if (chunks is not null)
                await chunks.DisposeAsync();
        }
    }
}

/// <summary>
/// The bytes of a console a read returns: from <see cref="Start"/> to <see cref="End"/>, which is
/// also where the next read starts (Jenkins' X-Text-Size).
/// </summary>
public readonly record struct ConsoleRange(long Start, long End)
{
    public long Length => End - Start;
}

/// <summary>
/// Every build's console, written and read the one way the store allows: on SQLite an append-only file
/// in the home read by offset; on a shared store (PostgreSQL) chunks in the database, so any server
/// serves any console, also of a build running on another server. Offsets are bytes either way.
/// </summary>
public sealed class ConsoleLogs(Database db, ValetHome home, TimeProvider time)
{
    readonly ConsoleChunks? chunks = db.Shared ? new ConsoleChunks(db, time) : null;

    /// <summary>The console of a build that starts now: empty, whatever an earlier home left at its path.</summary>
    public ConsoleWriter Create(long jobId, long number, SecretMasker masker) =>
        new(home.BuildLog(jobId, number), masker, chunks?.Write(jobId, number, 0), truncate: true);

    /// <summary>More lines at the end of a build's console (a build recorded as aborted after a crash).</summary>
    public async Task<ConsoleWriter> AppendAsync(long jobId, long number, SecretMasker masker, CancellationToken ct) =>
        new(home.BuildLog(jobId, number), masker, chunks is null ? null : chunks.Write(jobId, number, await chunks.SizeAsync(jobId, number, ct)), truncate: false);

    /// <summary>
    /// What a read from <paramref name="start"/> returns now: up to the current end, cut back to a UTF-8
    /// character boundary; nothing when <paramref name="start"/> is at or past the end.
    /// </summary>
    public Task<ConsoleRange> RangeAsync(long jobId, long number, long start, CancellationToken ct) =>
        chunks?.RangeAsync(jobId, number, start, ct) ?? Task.FromResult(ConsoleFile.Range(home.BuildLog(jobId, number), start));

    /// <summary>Copies <paramref name="range"/> (from <see cref="RangeAsync"/>) to <paramref name="destination"/> without holding it in memory.</summary>
    public Task CopyToAsync(long jobId, long number, ConsoleRange range, Stream destination, CancellationToken ct) =>
        range.Length == 0 ? Task.CompletedTask
        : chunks?.CopyToAsync(jobId, number, range.Start, range.End, destination, ct)
            ?? ConsoleFile.CopyToAsync(home.BuildLog(jobId, number), range.Start, range.End, destination, ct);

    /// <summary>The whole console as it is now (consoleText).</summary>
    public Task CopyAllToAsync(long jobId, long number, Stream destination, CancellationToken ct) =>
        chunks?.CopyToAsync(jobId, number, 0, long.MaxValue, destination, ct)
            ?? ConsoleFile.CopyToAsync(home.BuildLog(jobId, number), 0, long.MaxValue, destination, ct);

    /// <summary>The bytes from <paramref name="start"/> and where the next read starts; for reads known to be small.</summary>
    public async Task<(byte[] Bytes, long Next)> ReadFromAsync(long jobId, long number, long start, CancellationToken ct)
    {
        var range = await RangeAsync(jobId, number, start, ct);
        using var buffer = new MemoryStream();
        await CopyToAsync(jobId, number, range, buffer, ct);
        return (buffer.ToArray(), range.End);
    }

    /// <summary>
    /// Where a read of the bytes before <paramref name="end"/> must stop so it does not end inside a
    /// multi-byte character: <paramref name="tail"/> holds the last (up to 4) bytes the read covers.
    /// </summary>
    internal static long CharacterBoundary(ReadOnlySpan<byte> tail, long end)
    {
        // Back up over continuation bytes of an incomplete character.
        var length = tail.Length;
        var lead = length - 1;
        while (lead >= 0 && lead > length - 4 && (tail[lead] & 0xC0) == 0x80)
            lead--;
        if (lead >= 0 && tail[lead] >= 0xC0)
        {
            var needed = tail[lead] >= 0xF0 ? 4 : tail[lead] >= 0xE0 ? 3 : 2;
            if (length - lead < needed)
                return end - (length - lead);
        }
        return end;
    }
}

/// <summary>A console file in the home, read by offset while it grows.</summary>
public static class ConsoleFile
{
    public static ConsoleRange Range(string path, long start)
    {
        if (!File.Exists(path))
            return new(start, start);
        using var f = Open(path);
        var length = f.Length;
        if (start >= length)
            return new(start, start);
        var tail = new byte[Math.Min(4, length - start)];
        f.Seek(length - tail.Length, SeekOrigin.Begin);
        f.ReadExactly(tail);
        return new(start, ConsoleLogs.CharacterBoundary(tail, length));
    }

    public static async Task CopyToAsync(string path, long start, long end, Stream destination, CancellationToken ct)
    {
        if (!File.Exists(path))
            return;
        await using var f = Open(path);
        f.Seek(start, SeekOrigin.Begin);
        var buffer = new byte[64 * 1024];
        for (var left = end - start; left > 0;)
        {
            var n = await f.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct);
            if (n == 0)
                return;
            await destination.WriteAsync(buffer.AsMemory(0, n), ct);
            left -= n;
        }
    }

    /// <summary>The bytes from <paramref name="start"/> to the current end, cut back to a UTF-8 character boundary.</summary>
    public static async Task<(byte[] Bytes, long Next)> ReadFromAsync(string path, long start, CancellationToken ct)
    {
        var range = Range(path, start);
        using var buffer = new MemoryStream();
        await CopyToAsync(path, range.Start, range.End, buffer, ct);
        return (buffer.ToArray(), range.End);
    }

    static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
}
