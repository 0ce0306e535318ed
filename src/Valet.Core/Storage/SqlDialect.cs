namespace Valet.Core.Storage;

/// <summary>
/// The SQL that differs between the engines Valet stores into: everything else the stores run is
/// written once, in the SQL both understand (upserts with ON CONFLICT, RETURNING, CASE rather than
/// SQLite's two-argument MIN).
/// </summary>
public sealed record SqlDialect
{
    /// <summary>The folder of the engine's numbered migrations under Storage/Migrations.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Appended to a claim's sub-select so concurrent claimers pass over rows another one holds. SQLite
    /// has one writer, so the sub-select is atomic there without a lock clause.
    /// </summary>
    public required string SkipLocked { get; init; }

    /// <summary>Whether several server processes write the store, so a rule they share must live in the schema.</summary>
    public required bool Shared { get; init; }

    /// <summary>
    /// "Is one of this list" for a list parameter: Dapper spreads a list into one parameter per value
    /// for SQLite, and hands it to Npgsql whole, as an array.
    /// </summary>
    public required Func<string, string> InList { get; init; }

    public static readonly SqlDialect Sqlite = new() { Name = "sqlite", SkipLocked = "", Shared = false, InList = p => $"IN {p}" };

    public static readonly SqlDialect Postgres = new() { Name = "postgres", SkipLocked = "FOR UPDATE SKIP LOCKED", Shared = true, InList = p => $"= ANY({p})" };
}
