namespace Valet.Core.Items;

/// <summary>The one rule for item names (config file, API, config.xml).</summary>
public static class ItemName
{
    const string Forbidden = "?*/\\%!@#$^&|<>[]:;";
    public const int MaxLength = 200;

    /// <summary>limits.md §1: a longer full name, or one of more segments, is an unknown item.</summary>
    public const int MaxFullNameLength = 4096, MaxSegments = 64;

    /// <summary>Whether a full name is within limits.md §1; checked before it is split or looked up.</summary>
    public static bool WithinLimits(string fullName)
    {
        if (fullName.Length > MaxFullNameLength)
            return false;
        var segments = 0;
        var inSegment = false;
        foreach (var c in fullName)
        {
            if (c == '/')
                inSegment = false;
            else if (!inSegment)
            {
                inSegment = true;
                if (++segments > MaxSegments)
                    return false;
            }
        }
        return true;
    }

    /// <summary>Null when valid, else the rule the name breaks.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0)
            return "a name must not be empty";
        if (name.Length > MaxLength)
            return $"a name must be at most {MaxLength} characters";
        if (name != name.Trim())
            return "a name must not start or end with a space";
        if (name is "." or "..")
            return "a name must not be '.' or '..'";
        if (name.Any(char.IsControl))
            return "a name must not contain control characters";
        var bad = name.FirstOrDefault(c => Forbidden.Contains(c));
        if (bad != default)
            return $"a name must not contain '{bad}' (none of {Forbidden})";
        return null;
    }

    /// <summary>The comparison key: names are unique within a folder ignoring case.</summary>
    public static string Key(string name) => name.ToUpperInvariant();

    /// <summary>Splits a full name on '/', dropping empty segments.</summary>
    public static string[] Segments(string fullName) => fullName.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
