using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests;

/// <summary>The engines a store test runs on.</summary>
public enum StoreEngine { Sqlite, Postgres }

/// <summary>
/// A temp home with the installation key, a fake clock and a real store: a SQLite file in the home, or
/// a database of its own on the PostgreSQL cluster `./test` starts (VALET_TEST_POSTGRES); deleted on
/// dispose. Without that cluster a PostgreSQL test reports skipped, never passed.
/// </summary>
public sealed class TempStore : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    readonly TestPostgres.Database? postgres;

    TempStore(string dir, TestPostgres.Database? postgres)
    {
        Home = new ValetHome(dir);
        Secrets = InstallationSecrets.CreateOrOpen(Home);
        this.postgres = postgres;
        Db = NewDatabase();
        Items = new ItemStore(Db, Secrets, Time);
    }

    Database NewDatabase() => postgres is null
        ? new SqliteDatabase(Home.DatabaseFile, NullLogger<SqliteDatabase>.Instance)
        : new PostgresDatabase(postgres.Url, NullLogger<PostgresDatabase>.Instance);

    public ValetHome Home { get; }
    public InstallationSecrets Secrets { get; }
    public FakeTimeProvider Time { get; } = new(Start);
    public Database Db { get; private set; }
    public ItemStore Items { get; private set; }

    public static async Task<TempStore> OpenAsync(StoreEngine engine = StoreEngine.Sqlite)
    {
        var postgres = engine == StoreEngine.Postgres ? await TestPostgres.CreateDatabaseAsync() : null;
        var store = new TempStore(Path.Combine(Path.GetTempPath(), "valet-core-tests-" + Guid.NewGuid().ToString("N")), postgres);
        await store.Db.OpenAsync(TestContext.Current.CancellationToken);
        return store;
    }

    /// <summary>Closes the database and opens the same file again, as a restart does.</summary>
    public async Task ReopenAsync()
    {
        await Db.DisposeAsync();
        Db = NewDatabase();
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

    /// <summary>Everything the store holds as text (SQLite: the database file and its log; PostgreSQL: every row), to look for values that must never be stored.</summary>
    public string RawFiles() => postgres is not null ? postgres.AllRows() :
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
        if (postgres is not null)
            await postgres.DisposeAsync();
    }
}
