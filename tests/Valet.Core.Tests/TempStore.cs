using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests;

/// <summary>A temp home with a real SQLite file, the installation key and a fake clock; deleted on dispose.</summary>
public sealed class TempStore : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    TempStore(string dir)
    {
        Home = new ValetHome(dir);
        Secrets = InstallationSecrets.CreateOrOpen(Home);
        Db = new Database(Home.DatabaseFile, NullLogger<Database>.Instance);
        Items = new ItemStore(Db, Secrets, Time);
    }

    public ValetHome Home { get; }
    public InstallationSecrets Secrets { get; }
    public FakeTimeProvider Time { get; } = new(Start);
    public Database Db { get; private set; }
    public ItemStore Items { get; private set; }

    public static async Task<TempStore> OpenAsync()
    {
        var store = new TempStore(Path.Combine(Path.GetTempPath(), "valet-core-tests-" + Guid.NewGuid().ToString("N")));
        await store.Db.OpenAsync(TestContext.Current.CancellationToken);
        return store;
    }

    /// <summary>Closes the database and opens the same file again, as a restart does.</summary>
    public async Task ReopenAsync()
    {
        await Db.DisposeAsync();
        Db = new Database(Home.DatabaseFile, NullLogger<Database>.Instance);
        Items = new ItemStore(Db, Secrets, Time);
        await Db.OpenAsync(TestContext.Current.CancellationToken);
    }

    public async Task<Item> CreateAsync(string fullName, ItemDefinition? definition = null)
    {
        var (outcome, item) = await Db.WriteAsync(s => Items.SaveAsync(s, fullName, definition ?? new FreestyleJob(), null, createParents: true),
            TestContext.Current.CancellationToken);
        Assert.Equal(ItemStore.SaveOutcome.Created, outcome);
        return item!;
    }

    /// <summary>Holds the writer inside a write until released, so the writes queued meanwhile commit as one batch.</summary>
    public static async Task<(Task Held, TaskCompletionSource Release)> HoldWriterAsync(Database db)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = db.WriteAsync(async _ =>
        {
            entered.SetResult();
            await release.Task;
        }, TestContext.Current.CancellationToken);
        await entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        return (held, release);
    }

    /// <summary>The database file and its write-ahead log as text, to look for values that must never be stored.</summary>
    public string RawFiles() =>
        string.Concat(new[] { Home.DatabaseFile, Home.DatabaseFile + "-wal" }.Where(File.Exists)
            .Select(p => System.Text.Encoding.Latin1.GetString(ReadShared(p))));

    static byte[] ReadShared(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var m = new MemoryStream();
        f.CopyTo(m);
        return m.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await Db.DisposeAsync();
        Directory.Delete(Home.Root, recursive: true);
    }
}
