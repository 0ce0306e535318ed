using System.Text.Json;

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

    /// <summary>
    /// Jenkins' `json` form, <c>{"parameter":[{"name":"P","value":"x"}]}</c> or one object: unknown names
    /// are refused, booleans may be JSON booleans, unlisted parameters take their defaults.
    /// </summary>
    public static BindResult BindJson(string jobName, IReadOnlyList<ParameterDefinition> definitions, string json)
    {
        var sent = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("parameter", out var parameter))
                return new(null, null, "the 'json' value has no 'parameter' member");
            var entries = parameter.ValueKind == JsonValueKind.Array ? parameter.EnumerateArray().ToList() : [parameter];
            foreach (var e in entries)
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
                    return new(null, null, "each parameter in 'json' needs a string 'name'");
                var name = n.GetString()!;
                if (definitions.All(p => p.Name != name))
                    return new(null, name, $"'{jobName}' has no parameter '{name}'");
                var value = e.TryGetProperty("value", out var v) ? v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString()!,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Null => "",
                    _ => v.GetRawText(),
                } : "";
                if (!sent.TryGetValue(name, out var list))
                    sent[name] = list = [];
                list.Add(value);
            }
        }
        // A lone surrogate fails the transcoding to UTF-8 before the JSON reader sees it.
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return new(null, null, $"the 'json' value is not valid JSON: {e.Message}");
        }
        return Bind(definitions, name => sent.TryGetValue(name, out var l) ? l : []);
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
