using Npgsql;
using Xunit;

namespace Valet.Core.Tests;

/// <summary>The PostgreSQL cluster `./test` starts (tests/postgres/cluster), named by VALET_TEST_POSTGRES.</summary>
public static class TestPostgres
{
    public static string? AdminUrl => Environment.GetEnvironmentVariable("VALET_TEST_POSTGRES") is { Length: > 0 } url ? url : null;

    /// <summary>A new empty database on the cluster; skips the calling test when there is no cluster.</summary>
    public static async Task<Database> CreateDatabaseAsync()
    {
        if (AdminUrl is not { } admin)
        {
            Assert.Skip("no PostgreSQL cluster: VALET_TEST_POSTGRES is not set (./test starts one)");
            throw new InvalidOperationException();
        }
        var name = "valet_test_" + Guid.NewGuid().ToString("N");
        await using (var conn = new NpgsqlConnection(Valet.Core.Storage.PostgresDatabase.ConnectionString(admin)))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new Database(admin, name);
    }

    public sealed class Database(string admin, string name) : IAsyncDisposable
    {
        public string Url { get; } = admin[..admin.LastIndexOf('/')] + "/" + name;

        /// <summary>The first column of the first row of <paramref name="sql"/>.</summary>
        public object? Scalar(string sql)
        {
            using var conn = new NpgsqlConnection(Valet.Core.Storage.PostgresDatabase.ConnectionString(Url));
            conn.Open();
            using var cmd = new NpgsqlCommand(sql, conn);
            return cmd.ExecuteScalar();
        }

        /// <summary>Every row of every table as text.</summary>
        public string AllRows()
        {
            using var conn = new NpgsqlConnection(Valet.Core.Storage.PostgresDatabase.ConnectionString(Url));
            conn.Open();
            var tables = new List<string>();
            using (var cmd = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", conn))
            using (var reader = cmd.ExecuteReader())
            {
                while (reader.Read())
                    tables.Add(reader.GetString(0));
            }
            var text = new System.Text.StringBuilder();
            // Sorted: a table's physical row order is no part of its content.
            foreach (var table in tables)
            {
                using var cmd = new NpgsqlCommand($"SELECT t::text FROM \"{table}\" t ORDER BY 1", conn);
                using var reader = cmd.ExecuteReader();
                text.AppendLine($"-- {table}");
                while (reader.Read())
                    text.AppendLine(reader.GetString(0));
            }
            return text.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(Valet.Core.Storage.PostgresDatabase.ConnectionString(admin));
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
