using System.Text;

namespace Valet.Core.Execution;

/// <summary>
/// A build's console: an append-only file, flushed as output arrives so readers see it while the build
/// runs. With secrets to mask, output is written line by line so a secret is never split across writes.
/// </summary>
public sealed class ConsoleWriter : IAsyncDisposable
{
    readonly FileStream file;
    readonly SecretMasker masker;
    readonly MemoryStream pending = new();
    byte? lastByte;

    public ConsoleWriter(string path, SecretMasker masker)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
        this.masker = masker;
    }

    public async Task WriteLineAsync(string line)
    {
        await FlushPendingAsync();
        await WriteTextAsync(masker.Apply(line) + "\n");
    }

    /// <summary>Raw output of a step.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        if (masker.IsEmpty)
        {
            if (bytes.Length == 0)
                return;
            await file.WriteAsync(bytes);
            await file.FlushAsync();
            lastByte = bytes.Span[^1];
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
        var bytes = Encoding.UTF8.GetBytes(text);
        await file.WriteAsync(bytes);
        await file.FlushAsync();
        lastByte = bytes[^1];
    }

    /// <summary>Ends a partial last line of step output.</summary>
    public async Task EndOutputAsync()
    {
        await FlushPendingAsync();
        if (lastByte is not null and not (byte)'\n')
            await WriteTextAsync("\n");
    }

    public async ValueTask DisposeAsync()
    {
        await FlushPendingAsync();
        await file.DisposeAsync();
    }
}

public static class ConsoleLog
{
    /// <summary>The bytes from <paramref name="start"/> to the current end, cut back to a UTF-8 character boundary.</summary>
    public static async Task<(byte[] Bytes, long Next)> ReadFromAsync(string path, long start, CancellationToken ct)
    {
        if (!File.Exists(path))
            return ([], start);
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var length = f.Length;
        if (start >= length)
            return ([], Math.Max(start, length));
        f.Seek(start, SeekOrigin.Begin);
        var buffer = new byte[length - start];
        await f.ReadExactlyAsync(buffer, ct);
        var end = buffer.Length;
        // Don't end inside a multi-byte character: back up over continuation bytes of an incomplete one.
        var lead = end - 1;
        while (lead >= 0 && lead > end - 4 && (buffer[lead] & 0xC0) == 0x80)
            lead--;
        if (lead >= 0 && buffer[lead] >= 0xC0)
        {
            var needed = buffer[lead] >= 0xF0 ? 4 : buffer[lead] >= 0xE0 ? 3 : 2;
            if (end - lead < needed)
                end = lead;
        }
        return (buffer[..end], start + end);
    }
}
