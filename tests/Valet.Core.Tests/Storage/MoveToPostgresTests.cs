using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Storage;

/// <summary>
/// The move is driven by its list of tables: every table and column of either schema must be on it
/// (copied, or left behind on purpose), so a migration that adds one fails here until someone decides.
/// </summary>
public sealed class MoveToPostgresTests
{
    [Fact]
    public async Task Every_table_and_column_of_the_SQLite_schema_is_copied_or_left_behind_on_purpose()
    {
        await using var store = await TempStore.OpenAsync();
        await using var conn = OpenSqlite(store);

        var problems = MoveToPostgres.SchemaProblems(await MoveToPostgres.SqliteSchemaAsync(conn, TestContext.Current.CancellationToken), "sqlite", chunksAllowed: false);

        Assert.Empty(problems);
    }

    [Fact]
    public async Task Every_table_and_column_of_the_PostgreSQL_schema_is_copied_left_behind_or_filled_from_files()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using (var migrated = new PostgresDatabase(database.Url, NullLogger<PostgresDatabase>.Instance))
            await migrated.OpenAsync(TestContext.Current.CancellationToken);
        await using var conn = new NpgsqlConnection(PostgresDatabase.ConnectionString(database.Url));
        await conn.OpenAsync(TestContext.Current.CancellationToken);

        var problems = MoveToPostgres.SchemaProblems(await MoveToPostgres.PostgresSchemaAsync(conn, TestContext.Current.CancellationToken), "postgres", chunksAllowed: true);

        Assert.Empty(problems);
    }

    [Fact]
    public async Task A_table_or_column_the_move_does_not_know_is_named_rather_than_skipped()
    {
        await using var store = await TempStore.OpenAsync();
        await using var conn = OpenSqlite(store);
        await conn.ExecuteAsync("CREATE TABLE later_feature (id INTEGER PRIMARY KEY); ALTER TABLE build ADD COLUMN later_column TEXT NULL;");

        var problems = MoveToPostgres.SchemaProblems(await MoveToPostgres.SqliteSchemaAsync(conn, TestContext.Current.CancellationToken), "sqlite", chunksAllowed: false).ToList();

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("table later_feature is neither copied nor left behind", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("column build.later_column is not copied", StringComparison.Ordinal));
    }

    static SqliteConnection OpenSqlite(TempStore store)
    {
        var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.Home.DatabaseFile, Pooling = false }.ToString());
        conn.Open();
        return conn;
    }
}
