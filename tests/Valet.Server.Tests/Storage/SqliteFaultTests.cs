using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Storage;

/// <summary>
/// limits.md §5 on SQLite with real faults: a full disk (the home on a small tmpfs the test fills) and a
/// failed flush (the home on a loop device whose backing store fills). Needs root to mount; skipped
/// otherwise, and on PostgreSQL (the database is not in the home there).
/// </summary>
public sealed class SqliteFaultTests
{
    const string Config = """
        server:
          quietPeriod: 3600
        jobs:
          - name: p
            authToken: secret
            parameters:
              - { type: string, name: v }
        """;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static bool Run(string file, params string[] args) => Output(file, args) is not null;

    /// <summary>The command's standard output, or null when it failed.</summary>
    static string? Output(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? output.Trim() : null;
    }

    /// <summary>
    /// New items of 2 KB each until one is refused, which must be a 503 `store-failed` with Retry-After;
    /// the values of those acknowledged before it are added to <paramref name="acknowledged"/>.
    /// </summary>
    static async Task TriggerUntilRefusedAsync(HttpClient client, List<string> acknowledged, int attempts)
    {
        var padding = new string('x', 2000);
        for (var i = 0; i < attempts; i++)
        {
            using var response = await client.GetAsync($"buildByToken/buildWithParameters?job=p&token=secret&v={i}-{padding}", Ct);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                acknowledged.Add($"{i}-{padding}");
                continue;
            }
            response.AssertStatus(HttpStatusCode.ServiceUnavailable, "store-failed");
            Assert.Equal(TimeSpan.FromSeconds(10), response.Headers.RetryAfter!.Delta);
            return;
        }
        Assert.Fail($"none of {attempts} new items was refused");
    }

    /// <summary>Takes every free byte of the filesystem holding <paramref name="path"/>.</summary>
    static void Fill(string path)
    {
        using var filler = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[64 * 1024];
        try
        {
            while (true)
                filler.Write(block);
        }
        catch (IOException)
        {
        }
        // What did not fit in a whole block still leaves room: fill that too.
        try
        {
            while (true)
                filler.Write(block, 0, 1);
        }
        catch (IOException)
        {
        }
    }

    static string SingleCritical(ValetProcess valet)
    {
        var critical = valet.Output.Split('\n').Where(l => l.Contains("crit:", StringComparison.Ordinal)).ToList();
        Assert.True(critical.Count == 1, $"{critical.Count} Critical lines:\n" + string.Join("\n", critical));
        return critical[0];
    }

    [Fact]
    public async Task A_full_disk_answers_503_store_failed_and_after_space_is_freed_and_a_restart_every_acknowledged_item_is_there()
    {
        if (ValetProcess.OnPostgres)
            Assert.Skip("the full disk is the SQLite home's");
        var mount = Path.Combine("/tmp", "valet-full-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(mount);
        if (!Run("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", mount))
        {
            Directory.Delete(mount);
            Assert.Skip("cannot mount a tmpfs (not root?)");
        }
        try
        {
            await using var valet = await ValetProcess.StartAsync(Config, home: Path.Combine(mount, "home"));
            var client = valet.Anonymous();
            var filler = Path.Combine(mount, "filler");
            var acknowledged = new List<string>();
            using (var before = await client.GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=before", Ct))
                before.AssertStatus(HttpStatusCode.Created);
            acknowledged.Add("before");
            Fill(filler);

            // New items grow the write-ahead log, which soon needs a block the disk no longer has.
            await TriggerUntilRefusedAsync(client, acknowledged, attempts: 5000);
            using (var again = await client.GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=again", Ct))
                again.AssertStatus(HttpStatusCode.ServiceUnavailable, "store-failed");
            using (var health = await client.GetAsync("healthz", Ct))
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            var critical = SingleCritical(valet);
            Assert.Contains("refuses writes", critical, StringComparison.Ordinal);
            Assert.Contains("disk is full", critical, StringComparison.Ordinal);

            await valet.KillAsync();
            File.Delete(filler);
            using (var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(valet.Home, "valet.db"), Pooling = false }.ToString()))
            {
                db.Open();
                using var check = db.CreateCommand();
                check.CommandText = "PRAGMA integrity_check";
                Assert.Equal("ok", check.ExecuteScalar());
            }
            await valet.RestartAsync();
            using (var after = await valet.Anonymous().GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=after", Ct))
                after.AssertStatus(HttpStatusCode.Created);
            acknowledged.Add("after");
            var queued = (await valet.QueueItemsAsync()).Select(i => i!["params"]!.GetValue<string>()).ToHashSet();
            Assert.Superset(acknowledged.Select(v => "\nv=" + v).ToHashSet(), queued);
        }
        finally
        {
            Run("umount", "-l", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    /// <summary>
    /// A real failed flush: the home on ext4 (no journal) on a loop device whose backing file sits,
    /// sparse, on a small tmpfs. Once the tmpfs is full, SQLite's writes still land in ext4's page cache
    /// (ext4 has free blocks), and the flush of the write-ahead log fails when the loop device cannot
    /// write them to its backing file.
    /// </summary>
    [Fact]
    public async Task A_failed_flush_refuses_writes_until_restart_and_every_acknowledged_item_survives_it()
    {
        if (ValetProcess.OnPostgres)
            Assert.Skip("the flush is the SQLite home's");
        var root = Path.Combine("/tmp", "valet-flush-" + Guid.NewGuid().ToString("N")[..8]);
        var backing = Path.Combine(root, "backing");
        var disk = Path.Combine(root, "disk");
        Directory.CreateDirectory(backing);
        Directory.CreateDirectory(disk);
        string? loop = null;
        var mounted = false;
        try
        {
            var image = Path.Combine(backing, "image");
            if (!Run("mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", backing))
                Assert.Skip("cannot mount a tmpfs (not root?)");
            if (!Run("truncate", "-s", "40m", image) || !Run("mkfs.ext4", "-q", "-F", "-O", "^has_journal", image)
                || (loop = Output("losetup", "-f", "--show", image)) is null || !(mounted = Run("mount", loop, disk)))
                Assert.Skip("cannot make an ext4 file system on a loop device");

            await using var valet = await ValetProcess.StartAsync(Config, home: Path.Combine(disk, "home"));
            var client = valet.Anonymous();
            var acknowledged = new List<string>();
            using (var before = await client.GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=before", Ct))
                before.AssertStatus(HttpStatusCode.Created);
            acknowledged.Add("before");
            Fill(Path.Combine(backing, "filler"));

            await TriggerUntilRefusedAsync(client, acknowledged, attempts: 2000);
            using (var health = await client.GetAsync("healthz", Ct))
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            var critical = SingleCritical(valet);
            Assert.Contains("Flushing the write-ahead log to disk failed", critical, StringComparison.Ordinal);
            Assert.Contains("fdatasync", critical, StringComparison.Ordinal);

            // Space comes back, but a failed flush leaves the disk's content unknown: writes stay refused.
            File.Delete(Path.Combine(backing, "filler"));
            using (var still = await client.GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=still", Ct))
                still.AssertStatus(HttpStatusCode.ServiceUnavailable, "store-failed");

            await valet.KillAsync();
            await valet.RestartAsync();
            using (var after = await valet.Anonymous().GetAsync("buildByToken/buildWithParameters?job=p&token=secret&v=after", Ct))
                after.AssertStatus(HttpStatusCode.Created);
            acknowledged.Add("after");
            var queued = (await valet.QueueItemsAsync()).Select(i => i!["params"]!.GetValue<string>()).ToHashSet();
            Assert.Superset(acknowledged.Select(v => "\nv=" + v).ToHashSet(), queued);
            Assert.DoesNotContain("\nv=still", queued);
            await valet.StopAsync();
        }
        finally
        {
            if (mounted)
                Run("umount", "-l", disk);
            if (loop is not null)
                Run("losetup", "-d", loop);
            Run("umount", "-l", backing);
            Directory.Delete(root, recursive: true);
        }
    }
}
