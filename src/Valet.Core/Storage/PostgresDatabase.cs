using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Valet.Core.Storage;

/// <summary>
/// The PostgreSQL store, shared by every server started with the same --database. Each write is a
/// transaction of its own on a pooled connection: the engine orders concurrent writers, so a rule
/// several servers share lives in the schema (unique keys, one-statement claims). Writes announce
/// changes with NOTIFY; one connection per server LISTENs and raises them as
/// <see cref="Database.Announced"/>.
/// </summary>
public sealed partial class PostgresDatabase(string url, ILogger<PostgresDatabase> logger) : Database
{
    /// <summary>The channel every server LISTENs on; a notification's payload is the topic.</summary>
    const string Channel = "valet";

    /// <summary>The advisory lock migrations run under, so servers starting together apply each script once.</summary>
    const long MigrationLock = 0x76616C6574; // "valet"

    /// <summary>A write that lost a deadlock, a serialization check or a race for a unique key runs again, this many times at most.</summary>
    const int Attempts = 5;

    readonly NpgsqlDataSource source = NpgsqlDataSource.Create(ConnectionString(url));
    // Announcements carry their sender, so a server skips its own.
    readonly string instance = Guid.NewGuid().ToString("N");
    readonly CancellationTokenSource stopping = new();
    Task? listener;
    volatile bool hearing;

    public static bool IsUrl(string? url) =>
        url is not null && (url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase));

    public override SqlDialect Dialect => SqlDialect.Postgres;

    public override bool Hearing => hearing;

    /// <summary>
    /// The libpq URL form (postgresql://user:password@host:port/dbname?option=value) as an Npgsql
    /// connection string. Options are libpq's names; one Valet does not know is an error naming it.
    /// </summary>
    public static string ConnectionString(string url)
    {
        if (!IsUrl(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new FormatException("--database: expected postgresql://user:password@host:port/dbname");
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Length > 0 ? Uri.UnescapeDataString(uri.Host) : "localhost",
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : null,
            // Room for every executor, request and background loop of one server at once.
            MaxPoolSize = 50,
        };
        var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
        if (uri.UserInfo.Length > 0)
        {
            b.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
                b.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (name)
            {
                case "sslmode": b.SslMode = Enum.Parse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true); break;
                case "host": b.Host = value; break;
                case "port": b.Port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "user": b.Username = value; break;
                case "password": b.Password = value; break;
                case "dbname": b.Database = value; break;
                case "connect_timeout": b.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "application_name": b.ApplicationName = value; break;
                case "sslrootcert": b.RootCertificate = value; break;
                case "sslcert": b.SslCertificate = value; break;
                case "sslkey": b.SslKey = value; break;
                case "target_session_attrs": b.TargetSessionAttributes = value; break;
                default: throw new FormatException($"--database: unknown option '{name}' (known: sslmode, host, port, user, password, dbname, connect_timeout, application_name, sslrootcert, sslcert, sslkey, target_session_attrs)");
            }
        }
        return b.ConnectionString;
    }

    public override async Task OpenAsync(CancellationToken ct)
    {
        await using (var conn = await source.OpenConnectionAsync(ct))
        {
            await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@MigrationLock)", new { MigrationLock }, cancellationToken: ct));
            try
            {
                await Migrator.ApplyAsync(conn, Dialect.Name, logger, ct);
            }
            finally
            {
                await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@MigrationLock)", new { MigrationLock }, cancellationToken: CancellationToken.None));
            }
        }
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener = ListenAsync(listening, stopping.Token);
        await listening.Task.WaitAsync(ct);
    }

    /// <summary>How long a read or write keeps trying while the database cannot be reached, before it answers 503.</summary>
    static readonly TimeSpan Unreachable = TimeSpan.FromSeconds(5);

    public override async Task<T> ReadAsync<T>(Func<Session, Task<T>> read, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var conn = await source.OpenConnectionAsync(ct);
                var result = await read(new Session(conn, null, null, ct, withoutNul: true));
                Reached();
                return result;
            }
            catch (NpgsqlException e) when (IsConnectionFault(e))
            {
                await WaitOrGiveUpAsync(e, clock, ct);
            }
        }
    }

    public override async Task<T> WriteAsync<T>(Func<Session, Task<T>> write, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            Session? session = null;
            var committing = false;
            try
            {
                await using var conn = await source.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                session = new Session(conn, tx, null, ct, withoutNul: true);
                var result = await write(session);
                foreach (var topic in session.Announcements ?? [])
                    await conn.ExecuteAsync(new CommandDefinition("SELECT pg_notify(@Channel, @payload)", new { Channel, payload = Payload(topic) }, tx, cancellationToken: ct));
                committing = true;
                await tx.CommitAsync(ct);
                Reached();
                return result;
            }
            // Before the commit was sent nothing happened, so the write runs again once the database
            // answers; a connection lost during the commit leaves its outcome unknown: 503, not again.
            catch (NpgsqlException e) when (IsConnectionFault(e))
            {
                if (committing)
                    throw Unavailable(e);
                await WaitOrGiveUpAsync(e, clock, ct);
            }
            // A unique key another server's write took between this write's look-up and its insert:
            // run again, the look-up now finds the row (SQLite's one writer never sees this).
            catch (PostgresException e) when (attempt < Attempts && e.SqlState is PostgresErrorCodes.DeadlockDetected
                or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.UniqueViolation)
            {
                Log.WriteRetried(logger, e.SqlState, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), ct);
            }
            finally
            {
                // Committed or not: only after this point can a reader see the new rows.
                session?.RunAfterCommit();
            }
        }
    }

    /// <summary>The database out of reach (refused, reset, timed out), not a statement it refused.</summary>
    static bool IsConnectionFault(NpgsqlException e) =>
        e is not PostgresException || e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.CrashShutdown };

    async Task WaitOrGiveUpAsync(NpgsqlException e, System.Diagnostics.Stopwatch clock, CancellationToken ct)
    {
        if (clock.Elapsed > Unreachable || Failure is not null)
            throw Unavailable(e);
        await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
    }

    StoreUnavailableException Unavailable(NpgsqlException e)
    {
        if (Fail(e))
            Log.Unreachable(logger, e);
        return new StoreUnavailableException($"The PostgreSQL database cannot be reached: {e.Message}", e);
    }

    void Reached()
    {
        if (Failure is not null)
        {
            Recover();
            Log.ReachedAgain(logger);
        }
    }

    string Payload(string topic) => instance + " " + topic;

    public override async Task AnnounceAsync(string topic)
    {
        try
        {
            await using var conn = await source.OpenConnectionAsync(stopping.Token);
            await conn.ExecuteAsync(new CommandDefinition("SELECT pg_notify(@Channel, @payload)", new { Channel, payload = Payload(topic) }, cancellationToken: stopping.Token));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or ObjectDisposedException)
        {
            Log.AnnounceFailed(logger, e, topic);
        }
    }

    void OnNotification(string payload)
    {
        var space = payload.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && !payload.AsSpan(0, space).SequenceEqual(instance))
            RaiseAnnounced(payload[(space + 1)..]);
    }

    /// <summary>
    /// One connection LISTENs for the other servers' announcements. While it is down, announcements
    /// may be missed: <see cref="Hearing"/> is false (caches are bypassed) and, once it is back, "*"
    /// tells every cache to forget what it held.
    /// </summary>
    async Task ListenAsync(TaskCompletionSource listening, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await source.OpenConnectionAsync(ct);
                conn.Notification += (_, e) => OnNotification(e.Payload);
                await conn.ExecuteAsync(new CommandDefinition($"LISTEN {Channel}", cancellationToken: ct));
                hearing = true;
                Reached();
                RaiseAnnounced("*");
                listening.TrySetResult();
                while (!ct.IsCancellationRequested)
                    await conn.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                if (hearing)
                    Log.ListenerLost(logger, e);
                // Out of reach with no request to notice it: /healthz tells from now on.
                if (e is NpgsqlException n && IsConnectionFault(n))
                    Unavailable(n);
                hearing = false;
                RaiseAnnounced("*");
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); }
                catch (OperationCanceledException) { break; }
            }
        }
        hearing = false;
    }

    public override async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (listener is not null)
            await listener;
        await source.DisposeAsync();
        stopping.Dispose();
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "A write ran again after PostgreSQL answered {SqlState} (attempt {Attempt})")]
        public static partial void WriteRetried(ILogger logger, string sqlState, int attempt);

        [LoggerMessage(Level = LogLevel.Critical, Message = "The PostgreSQL database cannot be reached: requests answer 503 store-failed until it is back")]
        public static partial void Unreachable(ILogger logger, Exception e);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The PostgreSQL database answers again")]
        public static partial void ReachedAgain(ILogger logger);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Could not announce {Topic} to the other servers")]
        public static partial void AnnounceFailed(ILogger logger, Exception e, string topic);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection that hears other servers' changes; caches are bypassed until it is back")]
        public static partial void ListenerLost(ILogger logger, Exception e);
    }
}
