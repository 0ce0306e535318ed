using System.Text.Json.Nodes;
using Valet.Core.Items;

namespace Valet.Core.Configuration;

/// <summary>An item as its entry in the config-file format (as JSON): what `config.json` answers.</summary>
public static class ConfigWriter
{
    public static JsonObject Entry(Item item)
    {
        var c = item.Config;
        var o = new JsonObject { ["name"] = item.FullName };
        if (item.IsFolder)
        {
            o["type"] = "folder";
            o["description"] = c.Description;
            AddPermissions(o, c);
            return o;
        }
        o["type"] = c.Kind == ItemKind.Pipeline ? "pipeline" : "freestyle";
        o["description"] = c.Description;
        o["disabled"] = c.Disabled;
        o["concurrent"] = c.Concurrent;
        if (c.QuietPeriod is { } quiet)
            o["quietPeriod"] = quiet;
        if (c.Parameters.Count > 0)
            o["parameters"] = new JsonArray([.. c.Parameters.Select(Parameter)]);
        if (c.Scm is { } scm)
            o["scm"] = new JsonObject { ["git"] = new JsonObject { ["url"] = scm.Url, ["branch"] = scm.Branch } };
        if (c.PollScm is not null || c.Cron is not null)
        {
            var triggers = new JsonObject();
            if (c.PollScm is not null)
                triggers["pollScm"] = c.PollScm;
            if (c.Cron is not null)
                triggers["cron"] = c.Cron;
            o["triggers"] = triggers;
        }
        if (c.Kind == ItemKind.Freestyle)
            o["steps"] = new JsonArray([.. c.Steps.Select(step => (JsonNode)new JsonObject { ["sh"] = step })]);
        if (c.Script is not null)
            o["script"] = c.Script;
        if (c.ScriptPath is not null)
            o["scriptPath"] = c.ScriptPath;
        AddPermissions(o, c);
        return o;
    }

    static JsonNode Parameter(ParameterDefinition p)
    {
        var o = new JsonObject { ["type"] = p.Type.ToString().ToLowerInvariant(), ["name"] = p.Name };
        // A password's default is a secret: never shown.
        if (p.Default is not null && p.Type != ParameterType.Password)
            o["default"] = p.Type == ParameterType.Boolean ? JsonValue.Create(p.Default == "true") : JsonValue.Create(p.Default);
        if (p.Trim)
            o["trim"] = true;
        if (p.Type == ParameterType.Choice)
            o["choices"] = new JsonArray([.. p.Choices.Select(ch => (JsonNode)JsonValue.Create(ch))]);
        if (p.Description.Length > 0)
            o["description"] = p.Description;
        return o;
    }

    static void AddPermissions(JsonObject o, ItemConfig c)
    {
        if (c.Permissions.Count == 0)
            return;
        var permissions = new JsonObject();
        foreach (var (principal, names) in c.Permissions)
            permissions[principal] = new JsonArray([.. names.Select(n => (JsonNode)JsonValue.Create(n))]);
        o["permissions"] = permissions;
    }
}
