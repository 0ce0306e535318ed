using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Valet.Core.Storage;

/// <summary>Applies the embedded numbered scripts forward only, each in its own transaction.</summary>
static partial class Migrator
{
    public static async Task ApplyAsync(DbConnection conn, string provider, ILogger logger, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(
            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
            cancellationToken: ct));
        var applied = (await conn.QueryAsync<long>(new CommandDefinition("SELECT version FROM schema_version", cancellationToken: ct))).ToHashSet();
        foreach (var (version, sql) in Scripts(provider))
        {
            if (applied.Contains(version))
                continue;
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_version (version, applied_at) VALUES (@version, @now)",
                new { version, now = 0L }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            LogApplied(logger, version);
        }
    }

    static IEnumerable<(long Version, string Sql)> Scripts(string provider)
    {
        var asm = typeof(Migrator).Assembly;
        var prefix = $"Valet.Core.Storage.Migrations.{provider}.";
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = name[prefix.Length..];
            var version = long.Parse(file[..file.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            using var reader = new StreamReader(asm.GetManifestResourceStream(name)!);
            yield return (version, reader.ReadToEnd());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied database migration {Version}")]
    static partial void LogApplied(ILogger logger, long version);
}
