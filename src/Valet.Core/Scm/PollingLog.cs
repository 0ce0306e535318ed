using System.Text;
using Valet.Core.Execution;
using Valet.Core.Storage;

namespace Valet.Core.Scm;

/// <summary>
/// Each job's polling log (Jenkins' "Git Polling Log"): about its last polling runs. On SQLite a file
/// in the job's directory, written as a run goes; on a shared store a row, written when a run ends, so
/// every server shows it whichever server polled.
/// </summary>
public sealed class PollingLog(Database db, ValetHome home)
{
    // Kept to about the last runs, not forever: a run finding the log past this size starts it anew.
    const long Limit = 256 * 1024;

    /// <summary>Where the polling log of a job lives on SQLite.</summary>
    public static string FilePath(ValetHome home, long jobId) => Path.Combine(home.JobDirectory(jobId), "scm-polling.log");

    string FilePath(long jobId) => FilePath(home, jobId);

    /// <summary>A polling run's part of the log, its lines masked by <paramref name="masker"/>; stored whole once disposed.</summary>
    public Run Start(long jobId, SecretMasker masker)
    {
        if (db.Shared)
            return new Run(new MemoryStream(), masker, text => StoreAsync(jobId, text));
        var path = FilePath(jobId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) && new FileInfo(path).Length > Limit)
            File.Delete(path);
        return new Run(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), masker, null);
    }

    Task StoreAsync(long jobId, string text) => db.WriteAsync(s => s.ExecuteAsync(
        """
        INSERT INTO scm_poll_log (job_id, text) SELECT @jobId, @text WHERE EXISTS (SELECT 1 FROM item WHERE id = @jobId)
        ON CONFLICT (job_id) DO UPDATE
        SET text = CASE WHEN length(scm_poll_log.text) > @Limit THEN excluded.text ELSE scm_poll_log.text || excluded.text END
        """, new { jobId, text, Limit }), CancellationToken.None);

    public async Task CopyToAsync(long jobId, Stream destination, CancellationToken ct)
    {
        if (db.Shared)
        {
            var text = await db.ReadAsync(s => s.QueryFirstOrDefaultAsync<string>("SELECT text FROM scm_poll_log WHERE job_id = @jobId", new { jobId }), ct);
            if (text is not null)
                await destination.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
            return;
        }
        var path = FilePath(jobId);
        if (!File.Exists(path))
            return;
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        await f.CopyToAsync(destination, ct);
    }

    /// <summary>
    /// Writes whole lines, each masked: git's output arrives in pieces that may split a secret, so a
    /// piece without its line's end waits for the rest.
    /// </summary>
    public sealed class Run(Stream target, SecretMasker masker, Func<string, Task>? store) : IAsyncDisposable
    {
        readonly MemoryStream partial = new();

        public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
        {
            var span = bytes;
            while (span.Span.IndexOf((byte)'\n') is var end and >= 0)
            {
                partial.Write(span.Span[..(end + 1)]);
                span = span[(end + 1)..];
                await FlushAsync();
            }
            partial.Write(span.Span);
        }

        async Task FlushAsync()
        {
            if (partial.Length == 0)
                return;
            var line = masker.IsEmpty ? partial.ToArray() : Encoding.UTF8.GetBytes(masker.Apply(Encoding.UTF8.GetString(partial.ToArray())));
            partial.SetLength(0);
            await target.WriteAsync(line, CancellationToken.None);
        }

        public Task LineAsync(string text) => WriteAsync(Encoding.UTF8.GetBytes(text + "\n"));

        public async ValueTask DisposeAsync()
        {
            await FlushAsync();
            await target.DisposeAsync();
            if (store is not null && target is MemoryStream run && run.ToArray() is { Length: > 0 } bytes)
                await store(Encoding.UTF8.GetString(bytes));
        }
    }
}
