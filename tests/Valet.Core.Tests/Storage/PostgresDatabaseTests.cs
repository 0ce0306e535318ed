using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Valet.Core.Security;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Storage;

/// <summary>The PostgreSQL store: what only a store shared by several servers does. Skipped without the test cluster.</summary>
public sealed class PostgresDatabaseTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("postgresql://valet:p%40ss@db.example:6543/ci?sslmode=require", "Host=db.example;Port=6543;Database=ci;Username=valet;Password=p@ss;SSL Mode=Require")]
    [InlineData("postgres://db.example/valet", "Host=db.example;Port=5432;Database=valet")]
    [InlineData("postgresql://u@localhost/d?host=/var/run/postgresql&application_name=valet", "Host=/var/run/postgresql;Port=5432;Database=d;Username=u;Application Name=valet")]
    public void A_url_becomes_the_connection_string_it_names(string url, string expected)
    {
        var actual = new Npgsql.NpgsqlConnectionStringBuilder(PostgresDatabase.ConnectionString(url));
        foreach (var part in expected.Split(';'))
        {
            var (key, value) = (part[..part.IndexOf('=')], part[(part.IndexOf('=') + 1)..]);
            Assert.Equal(value, actual[key]?.ToString(), ignoreCase: true);
        }
    }

    [Theory]
    [InlineData("postgresql://host/db?frobnicate=1", "unknown option 'frobnicate'")]
    [InlineData("mysql://host/db", "expected postgresql://")]
    public void A_bad_url_is_refused_naming_what_is_wrong(string url, string message)
    {
        var refused = Assert.Throws<FormatException>(() => PostgresDatabase.ConnectionString(url));
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Two stores on one database, as two servers have.</summary>
    sealed class TwoServers : IAsyncDisposable
    {
        readonly TestPostgres.Database database;

        TwoServers(TestPostgres.Database database)
        {
            this.database = database;
            A = new PostgresDatabase(database.Url, NullLogger<PostgresDatabase>.Instance);
            B = new PostgresDatabase(database.Url, NullLogger<PostgresDatabase>.Instance);
        }

        public PostgresDatabase A { get; }
        public PostgresDatabase B { get; }

        public static async Task<TwoServers> OpenAsync()
        {
            var servers = new TwoServers(await TestPostgres.CreateDatabaseAsync());
            // Opened together: the migration lock lets one apply each script.
            await Task.WhenAll(servers.A.OpenAsync(Ct), servers.B.OpenAsync(Ct));
            return servers;
        }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Servers_opening_one_database_together_apply_each_migration_once()
    {
        await using var servers = await TwoServers.OpenAsync();
        var versions = await servers.A.ReadAsync(async s => (await s.QueryAsync<long>("SELECT version FROM schema_version ORDER BY version")).ToList(), Ct);
        Assert.Equal(versions.Distinct(), versions);
        Assert.Contains(1L, versions);
    }

    [Fact]
    public async Task A_committed_announcement_reaches_the_other_server_and_never_its_own()
    {
        await using var servers = await TwoServers.OpenAsync();
        var heardByB = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var heardByA = new List<string>();
        servers.B.Announced += t => { if (t == "items") heardByB.TrySetResult(t); };
        servers.A.Announced += t => { lock (heardByA) heardByA.Add(t); };

        await servers.A.WriteAsync(s => { s.Announce("items"); return Task.CompletedTask; }, Ct);
        Assert.Equal("items", await heardByB.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        // A write that rolls back announces nothing.
        var rolledBack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        servers.B.Announced += t => { if (t == "never") rolledBack.TrySetResult(); };
        await Assert.ThrowsAsync<InvalidOperationException>(() => servers.A.WriteAsync(s =>
        {
            s.Announce("never");
            throw new InvalidOperationException("refused");
        }, Ct));
        await servers.A.AnnounceAsync("after");
        await Task.Delay(200, Ct);
        Assert.False(rolledBack.Task.IsCompleted);
        lock (heardByA)
            Assert.DoesNotContain("items", heardByA);
    }

    [Fact]
    public async Task Failures_on_one_server_count_on_the_other()
    {
        await using var servers = await TwoServers.OpenAsync();
        var time = new FakeTimeProvider(TempStore.Start);
        var onA = new FailureTable(TimeSpan.FromMinutes(1), time, db: servers.A, name: "trigger");
        var onB = new FailureTable(TimeSpan.FromMinutes(1), time, db: servers.B, name: "trigger");
        var other = new FailureTable(TimeSpan.FromMinutes(1), time, db: servers.B, name: "sign-in");

        onA.Record("203.0.113.9");
        onA.Record("203.0.113.9");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (onB.Recent("203.0.113.9").Length < 2 && clock.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(10, Ct);
        Assert.Equal(3, onB.Record("203.0.113.9"));
        // Each guard counts its own failures only.
        Assert.Empty(other.Recent("203.0.113.9"));
    }

    [Fact]
    public async Task Text_with_nul_is_stored_and_looked_up_as_text_no_name_matches()
    {
        await using var servers = await TwoServers.OpenAsync();
        await servers.A.WriteAsync(s => s.ExecuteAsync("INSERT INTO installation (name, value) VALUES (@name, 'v')", new { name = "a\0b" }), Ct);
        Assert.Equal("a\uFFFDb", await servers.B.ReadAsync(s => s.QuerySingleAsync<string>("SELECT name FROM installation WHERE name LIKE 'a%'"), Ct));
        Assert.Null(await servers.B.ReadAsync(s => s.QueryFirstOrDefaultAsync<string>("SELECT name FROM installation WHERE name = @name", new { name = "ab" }), Ct));
    }
}
