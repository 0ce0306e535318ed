namespace Valet.Core.Items;

/// <summary>The one rule for item names (config file, API, config.xml).</summary>
public static class ItemName
{
    const string Forbidden = "?*/\\%!@#$^&|<>[]:;";
    public const int MaxLength = 200;

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
