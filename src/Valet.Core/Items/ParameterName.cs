using System.Text.RegularExpressions;

namespace Valet.Core.Items;

public static partial class ParameterName
{
    static readonly HashSet<string> Reserved = ["job", "token", "delay", "cause", "id", "json"];

    public static string? Problem(string name)
    {
        if (!Pattern().IsMatch(name))
            return "a parameter name must match [A-Za-z_][A-Za-z0-9_]*";
        if (Reserved.Contains(name))
            return $"'{name}' is reserved (job, token, delay, cause, id and json are trigger inputs)";
        return null;
    }

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex Pattern();
}
