using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Valet.Core.Security;

namespace Valet.Core.Storage;

/// <summary>
/// Moves an installation from its SQLite store to an empty PostgreSQL database: every table the move
/// knows, in one transaction, with identities continuing above the source's highest values. Guard state
/// and sign-in sessions stay behind. The move is driven by <see cref="Copied"/>: a table or column in
/// either schema that the lists do not name stops it before anything is copied, so a table added by a
/// later migration is never skipped without anyone deciding so.
/// </summary>
public static class MoveToPostgres
{
    /// <summary>A table copied row by row; <paramref name="Identity"/> names its generated id column, if any.</summary>
    public sealed record CopiedTable(string Name, string[] Columns, string? Identity = null, string Order = "");

    /// <summary>Every table copied, parents before children so each foreign key finds its row.</summary>
    public static readonly IReadOnlyList<CopiedTable> Copied =
    [
        new("installation", ["name", "value"]),
        // Parents first: a folder is always shallower than what it holds, whatever the ids (an item may be moved into a newer folder).
        new("item", ["id", "parent_id", "name", "full_name", "full_key", "kind", "config", "managed_by", "next_build_number", "created_at"],
            Identity: "id", Order: "ORDER BY length(full_name) - length(replace(full_name, '/', '')), id"),
        new("item_xml", ["item_id", "xml"]),
        new("user_account", ["id", "id_key", "full_name", "password_hash", "managed_by", "created_at"]),
        new("api_token", ["uuid", "user_key", "name", "hash", "created_at", "expires_at", "last_used_at", "use_count"]),
        new("job_token", ["id", "job_id", "name", "hash", "created_at", "expires_at", "revoked", "last_used_at", "last_used_address"], Identity: "id"),
        new("queue_item", ["id", "job_id", "state", "due_at", "in_queue_since", "params", "params_key", "causes", "build_number", "claimed_by", "left_at"], Identity: "id"),
        new("build", ["job_id", "number", "queue_id", "state", "result", "started_at", "duration", "causes", "params", "executor", "workspace", "node", "abort_requested_by", "server_id"]),
        new("build_scm", ["job_id", "number", "url", "branch", "revision", "previous_revision", "change_set"]),
        new("job_build_slot", ["job_id", "number"]),
        new("idempotency_key", ["job_id", "endpoint", "key", "created_at", "outcome", "queue_id"]),
        new("trigger_audit", ["id", "time", "endpoint", "job", "full_name", "address", "status", "reason", "queue_id", "idempotency_key", "token_name", "count"], Identity: "id"),
        new("schedule_tick", ["job_id", "trigger_kind", "minute"]),
    ];

    /// <summary>Tables deliberately not copied, and why.</summary>
    public static readonly IReadOnlyDictionary<string, string> LeftBehind = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["schema_version"] = "each store records the migrations applied to it",
        ["sign_in_session"] = "sign-in sessions: people sign in again after the move",
        [ConsoleChunkTable] = "consoles are files on SQLite; on PostgreSQL this table is filled from them",
        [PollLogTable] = "polling logs are files on SQLite; on PostgreSQL this table is filled from them",
        ["scm_poll_request"] = "polling runs waiting at the move: a schedule or a push hook asks again, and the first poll after the move builds what changed",
        ["server_node"] = "each server registers itself when it starts; a build of a server not registered is ended by the heartbeat",
    };

    /// <summary>Polling logs in the database, for servers that serve each other's jobs.</summary>
    public const string PollLogTable = "scm_poll_log";

    /// <summary>Consoles in the database, for servers that serve each other's builds.</summary>
    public const string ConsoleChunkTable = "console_chunk";

    // A target whose table differs from these stops the move (see SchemaProblems) instead of losing consoles.
    static readonly string[] ConsoleChunkColumns = ["job_id", "number", "byte_offset", "data"];

    /// <summary>Bytes of a console per chunk row.</summary>
    const int ChunkSize = 64 * 1024;

    /// <summary>What the move did: the rows per table, or why it copied nothing.</summary>
    public sealed record Outcome(string? Refusal, IReadOnlyList<(string Table, long Rows)> Rows, bool ConsolesInDatabase);

    static Outcome Refuse(string reason) => new(reason, [], false);

    /// <summary>
    /// Copies the SQLite store of <paramref name="home"/> into the PostgreSQL database at
    /// <paramref name="targetUrl"/>. The caller holds the home, so no server writes to the source meanwhile.
    /// </summary>
    public static async Task<Outcome> RunAsync(ValetHome home, string targetUrl, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!PostgresDatabase.IsUrl(targetUrl))
            return Refuse($"--to: expected postgresql://user:password@host:port/dbname, got '{targetUrl}'");
        if (!File.Exists(home.DatabaseFile))
            return Refuse($"There is no SQLite store to move: {home.DatabaseFile} does not exist.");

        // Opening the source through the store brings an older schema up to this version's, and checks
        // the secrets as a server start would: the same secrets must serve the moved database.
        await using (var source = new SqliteDatabase(home.DatabaseFile, loggers.CreateLogger<SqliteDatabase>()))
        {
            await source.OpenAsync(ct);
            if (await InstallationCheck.VerifyAsync(source, home, ct) is { } mismatch)
                return Refuse(mismatch);
        }

        await using var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = home.DatabaseFile, Pooling = false }.ToString());
        await sqlite.OpenAsync(ct);
        var sourceSchema = await SqliteSchemaAsync(sqlite, ct);

        await using (var target = new PostgresDatabase(targetUrl, loggers.CreateLogger<PostgresDatabase>()))
            await target.OpenAsync(ct);
        await using var pg = new NpgsqlConnection(PostgresDatabase.ConnectionString(targetUrl));
        await pg.OpenAsync(ct);
        var targetSchema = await PostgresSchemaAsync(pg, ct);
        var problems = SchemaProblems(sourceSchema, "the SQLite store", chunksAllowed: false)
            .Concat(SchemaProblems(targetSchema, "the PostgreSQL database", chunksAllowed: true)).ToList();
        if (problems.Count > 0)
            return Refuse("The move does not know this schema, so it copied nothing:\n  " + string.Join("\n  ", problems));

        // One read transaction: every table from the same snapshot.
        await using var read = (SqliteTransaction)await sqlite.BeginTransactionAsync(ct);
        await using var tx = await pg.BeginTransactionAsync(ct);
        // Nothing else may write the tables while they are checked empty and filled.
        await pg.ExecuteAsync(new CommandDefinition($"LOCK TABLE {string.Join(", ", Copied.Select(t => t.Name))} IN EXCLUSIVE MODE", transaction: tx, cancellationToken: ct));
        var occupied = new List<string>();
        foreach (var table in Copied)
        {
            if (await pg.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT EXISTS (SELECT 1 FROM {table.Name})", transaction: tx, cancellationToken: ct)))
                occupied.Add(table.Name);
        }
        if (occupied.Count > 0)
            return Refuse($"The target database already has data (in {string.Join(", ", occupied)}): the move fills only an empty one. Nothing was copied.");

        var rows = new List<(string, long)>();
        foreach (var table in Copied)
        {
            var count = await CopyTableAsync(sqlite, read, pg, table, targetSchema[table.Name], ct);
            rows.Add((table.Name, count));
            if (table.Identity is { } identity)
                await ContinueIdentityAsync(sqlite, read, pg, tx, table.Name, identity, ct);
        }
        var chunks = targetSchema.ContainsKey(ConsoleChunkTable);
        if (chunks)
            rows.Add((ConsoleChunkTable, await CopyConsolesAsync(sqlite, read, pg, home, ct)));
        if (targetSchema.ContainsKey(PollLogTable))
            rows.Add((PollLogTable, await CopyPollingLogsAsync(sqlite, read, pg, tx, home, ct)));
        await tx.CommitAsync(ct);
        return new Outcome(null, rows, chunks);
    }

    /// <summary>Why the schema cannot be moved as the lists say: a table or column they do not name, or one they miss.</summary>
    internal static IEnumerable<string> SchemaProblems(IReadOnlyDictionary<string, Dictionary<string, string>> schema, string where, bool chunksAllowed)
    {
        foreach (var table in schema.Keys.Order(StringComparer.Ordinal))
        {
            if (table == ConsoleChunkTable && chunksAllowed)
            {
                if (!schema[table].Keys.Order(StringComparer.Ordinal).SequenceEqual(ConsoleChunkColumns.Order(StringComparer.Ordinal)))
                    yield return $"{where}: table {table} has columns ({string.Join(", ", schema[table].Keys)}); the move writes ({string.Join(", ", ConsoleChunkColumns)})";
                continue;
            }
            if (LeftBehind.ContainsKey(table))
                continue;
            if (Copied.FirstOrDefault(t => t.Name == table) is not { } copied)
            {
                yield return $"{where}: table {table} is neither copied nor left behind (MoveToPostgres.Copied, LeftBehind)";
                continue;
            }
            foreach (var column in schema[table].Keys.Except(copied.Columns, StringComparer.Ordinal))
                yield return $"{where}: column {table}.{column} is not copied (MoveToPostgres.Copied)";
        }
        foreach (var table in Copied)
        {
            if (!schema.TryGetValue(table.Name, out var columns))
                yield return $"{where}: table {table.Name} is missing";
            else
            {
                foreach (var column in table.Columns.Except(columns.Keys, StringComparer.Ordinal))
                    yield return $"{where}: column {table.Name}.{column} is missing";
            }
        }
    }

    /// <summary>Tables (not SQLite's own) and their columns with declared types.</summary>
    internal static async Task<Dictionary<string, Dictionary<string, string>>> SqliteSchemaAsync(SqliteConnection conn, CancellationToken ct)
    {
        var schema = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var tables = await conn.QueryAsync<string>(new CommandDefinition("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", cancellationToken: ct));
        foreach (var table in tables)
        {
            var columns = await conn.QueryAsync<(string Name, string Type)>(new CommandDefinition("SELECT name, type FROM pragma_table_info(@table)", new { table }, cancellationToken: ct));
            schema[table] = columns.ToDictionary(c => c.Name, c => c.Type, StringComparer.Ordinal);
        }
        return schema;
    }

    /// <summary>Tables of the connection's schema and their columns with PostgreSQL type names.</summary>
    internal static async Task<Dictionary<string, Dictionary<string, string>>> PostgresSchemaAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var columns = await conn.QueryAsync<(string Table, string Column, string Type)>(new CommandDefinition(
            """
            SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name, c.ordinal_position
            """, cancellationToken: ct));
        return columns.GroupBy(c => c.Table).ToDictionary(g => g.Key, g => g.ToDictionary(c => c.Column, c => c.Type, StringComparer.Ordinal), StringComparer.Ordinal);
    }

    static async Task<long> CopyTableAsync(SqliteConnection sqlite, SqliteTransaction read, NpgsqlConnection pg, CopiedTable table, Dictionary<string, string> targetTypes,
        CancellationToken ct)
    {
        var types = table.Columns.Select(c => TypeOf(targetTypes[c], table.Name, c)).ToArray();
        var columns = string.Join(", ", table.Columns);
        await using var select = sqlite.CreateCommand();
        select.Transaction = read;
        select.CommandText = $"SELECT {columns} FROM {table.Name} {table.Order}";
        await using var reader = await select.ExecuteReaderAsync(ct);
        // Binary COPY: one round trip per table rather than one per row, for stores with millions of audit rows.
        await using var import = await pg.BeginBinaryImportAsync($"COPY {table.Name} ({columns}) FROM STDIN (FORMAT BINARY)", ct);
        long count = 0;
        while (await reader.ReadAsync(ct))
        {
            await import.StartRowAsync(ct);
            for (var i = 0; i < types.Length; i++)
            {
                var value = reader.GetValue(i);
                var write = value switch
                {
                    DBNull => import.WriteNullAsync(ct),
                    long number => import.WriteAsync(number, types[i], ct),
                    byte[] bytes => import.WriteAsync(bytes, types[i], ct),
                    // PostgreSQL's text cannot hold U+0000; the store writes it as U+FFFD (Session's withoutNul), so the move does too.
                    string text => import.WriteAsync(text.Replace('\0', '\uFFFD'), types[i], ct),
                    _ => throw new NotSupportedException($"{table.Name}.{table.Columns[i]}: the move does not copy a {value.GetType().Name} from SQLite"),
                };
                await write;
            }
            count++;
        }
        await import.CompleteAsync(ct);
        return count;
    }

    static NpgsqlDbType TypeOf(string dataType, string table, string column) => dataType switch
    {
        "bigint" => NpgsqlDbType.Bigint,
        "text" => NpgsqlDbType.Text,
        "bytea" => NpgsqlDbType.Bytea,
        _ => throw new NotSupportedException($"{table}.{column}: the move does not copy PostgreSQL type {dataType}"),
    };

    /// <summary>
    /// New ids start above the highest the source ever gave: AUTOINCREMENT's counter, which stays above
    /// deleted rows, or the highest id present.
    /// </summary>
    static async Task ContinueIdentityAsync(SqliteConnection sqlite, SqliteTransaction read, NpgsqlConnection pg, NpgsqlTransaction tx, string table, string column, CancellationToken ct)
    {
        var counter = await sqlite.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT seq FROM sqlite_sequence WHERE name = @table", new { table }, read, cancellationToken: ct));
        var highest = await sqlite.ExecuteScalarAsync<long?>(new CommandDefinition($"SELECT max({column}) FROM {table}", transaction: read, cancellationToken: ct));
        var next = Math.Max(counter ?? 0, highest ?? 0);
        if (next > 0)
            await pg.ExecuteAsync(new CommandDefinition("SELECT setval(pg_get_serial_sequence(@table, @column), @next)", new { table, column, next }, tx, cancellationToken: ct));
    }

    /// <summary>Each build's console file as numbered chunks, so any server can serve it.</summary>
    static async Task<long> CopyConsolesAsync(SqliteConnection sqlite, SqliteTransaction read, NpgsqlConnection pg, ValetHome home, CancellationToken ct)
    {
        var builds = (await sqlite.QueryAsync<(long JobId, long Number)>(new CommandDefinition(
            "SELECT job_id, number FROM build ORDER BY job_id, number", transaction: read, cancellationToken: ct))).ToList();
        await using var import = await pg.BeginBinaryImportAsync($"COPY {ConsoleChunkTable} ({string.Join(", ", ConsoleChunkColumns)}) FROM STDIN (FORMAT BINARY)", ct);
        var buffer = new byte[ChunkSize];
        long count = 0;
        foreach (var (jobId, number) in builds)
        {
            var path = home.BuildLog(jobId, number);
            if (!File.Exists(path))
                continue;
            await using var file = File.OpenRead(path);
            long offset = 0;
            int length;
            while ((length = await file.ReadAtLeastAsync(buffer, ChunkSize, throwOnEndOfStream: false, ct)) > 0)
            {
                await import.StartRowAsync(ct);
                await import.WriteAsync(jobId, NpgsqlDbType.Bigint, ct);
                await import.WriteAsync(number, NpgsqlDbType.Bigint, ct);
                await import.WriteAsync(offset, NpgsqlDbType.Bigint, ct);
                await import.WriteAsync(buffer.AsMemory(0, length).ToArray(), NpgsqlDbType.Bytea, ct);
                offset += length;
                count++;
            }
        }
        await import.CompleteAsync(ct);
        return count;
    }

    /// <summary>Each job's polling log file as its row.</summary>
    static async Task<long> CopyPollingLogsAsync(SqliteConnection sqlite, SqliteTransaction read, NpgsqlConnection pg, NpgsqlTransaction tx, ValetHome home, CancellationToken ct)
    {
        long count = 0;
        foreach (var jobId in await sqlite.QueryAsync<long>(new CommandDefinition("SELECT id FROM item ORDER BY id", transaction: read, cancellationToken: ct)))
        {
            var path = Scm.PollingLog.FilePath(home, jobId);
            if (!File.Exists(path))
                continue;
            var text = (await File.ReadAllTextAsync(path, ct)).Replace('\0', '\uFFFD');
            await pg.ExecuteAsync(new CommandDefinition($"INSERT INTO {PollLogTable} (job_id, text) VALUES (@jobId, @text)", new { jobId, text }, tx, cancellationToken: ct));
            count++;
        }
        return count;
    }

    /// <summary>The summary the verb prints: one line per table.</summary>
    public static IEnumerable<string> Summary(Outcome outcome, ValetHome home)
    {
        foreach (var (table, rows) in outcome.Rows)
            yield return string.Create(CultureInfo.InvariantCulture, $"  {table,-20} {rows,10} rows");
        if (!outcome.ConsolesInDatabase)
            yield return $"  consoles stay files under {Path.Combine(home.Root, "jobs")}: start the servers on this home";
    }
}
