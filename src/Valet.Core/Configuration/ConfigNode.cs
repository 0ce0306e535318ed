namespace Valet.Core.Configuration;

/// <summary>
/// Where a value was written: the source's file name, its line, and its path in the source's own notation
/// (the config file: <c>jobs[0].parameters[1].type</c>; JSON: the pointer <c>/parameters/1/type</c>).
/// The root's path is empty.
/// </summary>
public sealed record SourceLocation(string Source, long Line, string Path)
{
    public override string ToString() => Path.Length == 0 ? $"{Source}:{Line}" : $"{Source}:{Line}: {Path}";
}

/// <summary>A problem found in a source, where it was found.</summary>
public sealed record ConfigError(SourceLocation At, string Message)
{
    public override string ToString() => $"{At}: {Message}";
}

/// <summary>
/// A configuration value as a format adapter read it, before any meaning is given to it: what the
/// validator reads, whatever the format was.
/// </summary>
public abstract record ConfigNode(SourceLocation At);

/// <summary>Keys in written order. A key that is not plain text (YAML allows lists as keys) is null.</summary>
public sealed record ConfigMapping(SourceLocation At, IReadOnlyList<ConfigEntry> Entries) : ConfigNode(At);

/// <summary>One key and its value; <paramref name="KeyAt"/> is the key's line with the value's path.</summary>
public sealed record ConfigEntry(string? Key, SourceLocation KeyAt, ConfigNode Value);

public sealed record ConfigList(SourceLocation At, IReadOnlyList<ConfigNode> Items) : ConfigNode(At);

/// <summary>
/// Text, a number or a boolean, as written (JSON's <c>true</c> reads as "true"). <paramref name="IsNull"/>:
/// written as null (YAML's <c>~</c>, <c>null</c> or nothing; JSON's <c>null</c>), which reads as absent.
/// </summary>
public sealed record ConfigScalar(SourceLocation At, string Value, bool IsNull) : ConfigNode(At);

/// <summary>What a format adapter read: the root (null for an empty source) or the syntax errors.</summary>
public sealed record ConfigDocument(ConfigNode? Root, IReadOnlyList<ConfigError> Errors);
