namespace Valet.Core.Items;

public sealed record ParameterValue(string Name, ParameterType Type, string Value)
{
    public bool IsSecret => Type == ParameterType.Password;
}

/// <summary>The outcome of turning request values into build values: the values, or the parameter at fault.</summary>
public sealed record BindResult(IReadOnlyList<ParameterValue>? Values, string? BadParameter, string? Problem)
{
    public bool Ok => Values is not null;
}

/// <summary>Turns a request's values into a build's, walking the definitions in declared order.</summary>
public static class ParameterBinder
{
    /// <param name="lookup">Every value the request sent under a name (case-sensitive); empty when absent.</param>
    public static BindResult Bind(IReadOnlyList<ParameterDefinition> definitions, Func<string, IReadOnlyList<string>> lookup)
    {
        var values = new List<ParameterValue>(definitions.Count);
        foreach (var def in definitions)
        {
            var sent = lookup(def.Name);
            if (sent.Count > 1)
                return new(null, def.Name, $"parameter '{def.Name}' was given {sent.Count} times");
            if (sent.Count == 0)
            {
                values.Add(new(def.Name, def.Type, def.DefaultValue));
                continue;
            }
            var converted = Convert(def, sent[0]);
            if (converted is null)
                return new(null, def.Name, $"parameter '{def.Name}': '{sent[0]}' is not one of {string.Join(", ", def.Choices)}");
            values.Add(new(def.Name, def.Type, converted));
        }
        return new(values, null, null);
    }

    /// <summary>One sent value as the build sees it; null when a choice is not in the list.</summary>
    public static string? Convert(ParameterDefinition def, string value) => def.Type switch
    {
        ParameterType.Boolean => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase) ? "true" : "false",
        ParameterType.Choice => def.Choices.Contains(value, StringComparer.Ordinal) ? value : null,
        ParameterType.String when def.Trim => value.Trim(),
        _ => value,
    };
}
