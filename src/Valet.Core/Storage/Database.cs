using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Valet.Core.Storage;

/// <summary>
/// The one way to reach the database: reads on a connection of their own, writes each in a
/// transaction that is committed (and on disk) before the write's task completes. One server on
/// SQLite (<see cref="SqliteDatabase"/>) or several on one PostgreSQL (<see cref="PostgresDatabase"/>).
/// </summary>
public abstract class Database : IAsyncDisposable
{
    static Database() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    /// <summary>Opens the store named by <paramref name="url"/> (postgresql:// or postgres://), else SQLite at <paramref name="sqlitePath"/>.</summary>
    public static Database Create(string? url, string sqlitePath, ILoggerFactory loggers) =>
        PostgresDatabase.IsUrl(url)
            ? new PostgresDatabase(url!, loggers.CreateLogger<PostgresDatabase>())
            : new SqliteDatabase(sqlitePath, loggers.CreateLogger<SqliteDatabase>());

    public abstract SqlDialect Dialect { get; }

    /// <summary>Whether several server processes may share this store (each change must then be visible to all).</summary>
    public bool Shared => Dialect.Shared;

    /// <summary>Creates or upgrades the schema and starts whatever the store runs beside the server.</summary>
    public abstract Task OpenAsync(CancellationToken ct);

    /// <summary>Runs a read on a connection of its own.</summary>
    public abstract Task<T> ReadAsync<T>(Func<Session, Task<T>> read, CancellationToken ct);

    /// <summary>
    /// Runs <paramref name="write"/> in a transaction and returns once that transaction is committed.
    /// A write that throws is rolled back alone and its exception rethrown to its caller.
    /// </summary>
    public abstract Task<T> WriteAsync<T>(Func<Session, Task<T>> write, CancellationToken ct);

    public Task WriteAsync(Func<Session, Task> write, CancellationToken ct) =>
        WriteAsync<bool>(async s => { await write(s); return true; }, ct);

    public abstract ValueTask DisposeAsync();

    volatile string? failure;

    /// <summary>Why the store refuses writes now, or null while it takes them (/healthz answers 503 meanwhile).</summary>
    public string? Failure => failure;

    /// <summary>Records that writes are refused; true the first time, so the caller logs it once.</summary>
    protected bool Fail(Exception e)
    {
        var first = failure is null;
        failure = e.Message;
        return first;
    }

    protected void Recover() => failure = null;

    /// <summary>
    /// Raised with a topic another server announced (a committed write's <see cref="Session.Announce"/>,
    /// or <see cref="AnnounceAsync"/>); with "*" when announcements may have been missed. A server
    /// never hears its own: it acted on them already.
    /// </summary>
    public event Action<string>? Announced;

    protected void RaiseAnnounced(string topic) => Announced?.Invoke(topic);

    /// <summary>
    /// Tells the other servers sharing the store about <paramref name="topic"/> now, outside any write
    /// and at most once (a server not listening at that moment never hears it). Never fails its caller.
    /// </summary>
    public virtual Task AnnounceAsync(string topic) => Task.CompletedTask;

    /// <summary>
    /// Whether this server hears every other server's announcements now. While it does not, caches
    /// must not be trusted. Always true where this server is the store's only writer.
    /// </summary>
    public virtual bool Hearing => true;
}

/// <summary>
/// A connection with the transaction it is in, if any: what stores run their SQL on. SQL given as a
/// string goes through Dapper; a <see cref="Statement"/> (the few that run on every request) is kept
/// prepared on the writer's connection and reused.
/// </summary>
/// <para>
/// PostgreSQL's text cannot hold U+0000, which a caller can send (a job name, an audit entry's text):
/// with <paramref name="withoutNul"/> every string argument has it replaced by U+FFFD, so such a value
/// is looked up and stored as what it is, text no name matches, never an error.
/// </para>
public sealed class Session(DbConnection connection, DbTransaction? transaction, StatementCache? statements, CancellationToken ct, bool withoutNul = false)
{
    List<Action>? afterCommit;

    /// <summary>Topics to announce to the other servers sharing the store when the write commits.</summary>
    internal HashSet<string>? Announcements { get; private set; }

    /// <summary>
    /// Tells every server sharing the store, once this write commits, that what <paramref name="topic"/>
    /// names changed (a cache to forget, a queue to look at). Nothing to do where one server writes.
    /// </summary>
    public void Announce(string topic) => (Announcements ??= []).Add(topic);

    /// <summary>Runs <paramref name="action"/> once the write's transaction has ended (a cache invalidation).</summary>
    public void AfterCommit(Action action) => (afterCommit ??= []).Add(action);

    internal void RunAfterCommit()
    {
        foreach (var action in afterCommit ?? [])
            action();
    }

    CommandDefinition Cmd(string sql, object? args) => new(sql, withoutNul ? WithoutNul(args) : args, transaction, cancellationToken: ct);

    static object? WithoutNul(object? args)
    {
        if (args is null)
            return null;
        var properties = StatementCache.PropertiesOf(args.GetType());
        if (!properties.Any(p => p.GetValue(args) switch
            {
                string t => HasNul(t),
                IEnumerable<string?> list => list.Any(HasNul),
                _ => false,
            }))
            return args;
        var clean = new DynamicParameters();
        foreach (var p in properties)
            clean.Add(p.Name, p.GetValue(args) switch
            {
                string t => Clean(t),
                IEnumerable<string?> list => list.Select(t => t is null ? null : Clean(t)).ToArray(),
                var v => v,
            });
        return clean;
    }

    static bool HasNul(string? text) => text is not null && text.Contains('\0', StringComparison.Ordinal);

    static string Clean(string text) => text.Replace('\0', '\uFFFD');

    public Task<int> ExecuteAsync(string sql, object? args = null) => connection.ExecuteAsync(Cmd(sql, args));
    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args = null) => connection.QueryAsync<T>(Cmd(sql, args));
    public Task<T?> QueryFirstOrDefaultAsync<T>(string sql, object? args = null) => connection.QueryFirstOrDefaultAsync<T>(Cmd(sql, args));
    public Task<T> QuerySingleAsync<T>(string sql, object? args = null) => connection.QuerySingleAsync<T>(Cmd(sql, args));
    public Task<T?> ExecuteScalarAsync<T>(string sql, object? args = null) => connection.ExecuteScalarAsync<T>(Cmd(sql, args));

    public Task<int> ExecuteAsync(Statement statement, object? args = null) =>
        Task.FromResult(Run(statement, args, static c => c.ExecuteNonQuery()));

    /// <summary>The first row, or default when there is none.</summary>
    public Task<T?> QueryFirstOrDefaultAsync<T>(Statement statement, object? args = null) =>
        Task.FromResult(Run(statement, args, static c =>
        {
            using var reader = c.ExecuteReader();
            return reader.Read() ? reader.GetRowParser<T>()(reader) : default;
        }));

    T Run<T>(Statement statement, object? args, Func<DbCommand, T> run)
    {
        ct.ThrowIfCancellationRequested();
        if (statements is not null)
            return run(statements.Prepare(statement, transaction, args));
        using var command = connection.CreateCommand();
        command.CommandText = statement.Sql;
        command.Transaction = transaction;
        StatementCache.Bind(command, args);
        if (withoutNul)
        {
            foreach (DbParameter parameter in command.Parameters)
            {
                if (parameter.Value is string text)
                    parameter.Value = Clean(text);
            }
        }
        return run(command);
    }
}

/// <summary>SQL run often enough to be kept prepared: declared once (static readonly) by the store that runs it.</summary>
public sealed class Statement(string sql)
{
    public string Sql { get; } = sql;
}

/// <summary>
/// The writer's prepared commands, one per <see cref="Statement"/>. Parameters come from the
/// properties of an argument object (an anonymous type or record), named `@Property`.
/// </summary>
public sealed class StatementCache(DbConnection connection) : IDisposable
{
    readonly Dictionary<Statement, (DbCommand Command, Type? Args)> commands = [];
    static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    internal static PropertyInfo[] PropertiesOf(Type type) => Properties.GetOrAdd(type, t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance));

    public DbCommand Prepare(Statement statement, DbTransaction? transaction, object? args)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(commands, statement, out var known);
        if (!known)
        {
            entry.Command = connection.CreateCommand();
            entry.Command.CommandText = statement.Sql;
        }
        // Parameters are made for one argument type; another type gets its own.
        if (entry.Args != args?.GetType())
        {
            entry.Command.Parameters.Clear();
            entry.Args = args?.GetType();
        }
        entry.Command.Transaction = transaction;
        Bind(entry.Command, args);
        return entry.Command;
    }

    internal void Execute(Statement statement, DbTransaction transaction) => Prepare(statement, transaction, null).ExecuteNonQuery();

    /// <summary>Sets the command's parameters from <paramref name="args"/>, creating them on first use.</summary>
    public static void Bind(DbCommand command, object? args)
    {
        if (args is null)
            return;
        var properties = PropertiesOf(args.GetType());
        if (command.Parameters.Count == 0)
        {
            foreach (var property in properties)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = "@" + property.Name;
                command.Parameters.Add(parameter);
            }
        }
        for (var i = 0; i < properties.Length; i++)
            command.Parameters[i].Value = properties[i].GetValue(args) switch
            {
                null => DBNull.Value,
                bool b => b ? 1L : 0L,
                Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture),
                var v => v,
            };
    }

    public void Dispose()
    {
        foreach (var (command, _) in commands.Values)
            command.Dispose();
        commands.Clear();
    }
}
