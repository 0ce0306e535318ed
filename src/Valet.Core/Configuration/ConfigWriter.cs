using System.Text.Json.Nodes;
using Valet.Core.Items;
using Valet.Core.Scm;

namespace Valet.Core.Configuration;

/// <summary>
/// An item as its entry in the config-file format (as JSON): what `config.json` answers. A git URL's
/// password shows as ****; written back unchanged, it keeps the stored one (<see cref="GitUrl.KeepPassword"/>).
/// </summary>
public static class ConfigWriter
{
    public static JsonObject Entry(Item item)
    {
        var o = new JsonObject { ["name"] = item.FullName };
        if (item.Job is not { } c)
        {
            o["type"] = "folder";
            o["description"] = item.Definition.Description;
            AddPermissions(o, item.Definition);
            return o;
        }
        o["type"] = c is PipelineJob ? "pipeline" : "freestyle";
        o["description"] = c.Description;
        o["disabled"] = c.Disabled;
        o["concurrent"] = c.Concurrent;
        if (c.QuietPeriod is { } quiet)
            o["quietPeriod"] = quiet;
        if (c.Parameters.Count > 0)
            o["parameters"] = new JsonArray([.. c.Parameters.Select(Parameter)]);
        if (c.Scm is { } scm)
        {
            var git = new JsonObject { ["url"] = GitUrl.Masked(scm.Url), ["branch"] = scm.Branch };
            if (scm.Credentials is { } credentials)
                git["credentials"] = credentials;
            o["scm"] = new JsonObject { ["git"] = git };
        }
        if (c.Triggers.Count > 0)
        {
            var triggers = new JsonObject();
            foreach (var trigger in c.Triggers)
            {
                switch (trigger)
                {
                    case PollScmTrigger poll:
                        triggers["pollScm"] = poll.Spec;
                        break;
                    case CronTrigger cron:
                        triggers["cron"] = cron.Spec;
                        break;
                }
            }
            o["triggers"] = triggers;
        }
        if (c is FreestyleJob freestyle)
            o["steps"] = new JsonArray([.. freestyle.Steps.Select(step => (JsonNode)new JsonObject { ["sh"] = step })]);
        if (c is PipelineJob { Script: { } script })
            o["script"] = script;
        if (c is PipelineJob { ScriptPath: { } scriptPath })
            o["scriptPath"] = scriptPath;
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

    static void AddPermissions(JsonObject o, ItemDefinition c)
    {
        if (c.Permissions.Count == 0)
            return;
        var permissions = new JsonObject();
        foreach (var (principal, names) in c.Permissions)
            permissions[principal] = new JsonArray([.. names.Select(n => (JsonNode)JsonValue.Create(n))]);
        o["permissions"] = permissions;
    }
}
