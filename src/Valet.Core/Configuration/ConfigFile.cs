using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Valet.Core.Items;
using Valet.Core.Security;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Valet.Core.Configuration;

/// <summary>The file parsed and validated, or every error found; Config is null when there are errors.</summary>
public sealed record ConfigResult(ValetConfig? Config, IReadOnlyList<string> Errors);

/// <summary>
/// Reads the configuration-as-code file (interface.md). The YAML node tree is walked by hand so each error
/// names the file, the line and the key path, e.g. <c>valet.yaml:12: jobs[0].parameters[1].type: …</c>.
/// </summary>
public static partial class ConfigFile
{
    /// <summary>Parses and validates; <paramref name="env"/> looks up environment variables (null = unset).</summary>
    public static ConfigResult Parse(string path, string text, Func<string, string?> env)
    {
        var file = Path.GetFileName(path);
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            return new(null, [$"{file}:{e.Start.Line}: {e.Message}"]);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (not a YamlException) on some unterminated flow collections.
            return new(null, [$"{file}:{parser.Current?.End.Line ?? 1}: unterminated [ … ] or {{ … }}"]);
        }

        if (stream.Documents.Count > 1)
            return new(null, [$"{file}:{stream.Documents[1].RootNode.Start.Line}: the file must hold one YAML document"]);
        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
            return new(new ValetConfig(), []);

        var reader = new Reader(file, env);
        var config = reader.Read(stream.Documents[0].RootNode);
        return reader.Errors.Count == 0 ? new(config, []) : new(null, [.. reader.Errors.OrderBy(e => e.Line).Select(e => e.Text)]);
    }

    static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    /// <summary>A mapping's values by key, null values left out so optional keys read as absent.</summary>
    sealed record Fields(YamlMappingNode Node, string Path, Dictionary<string, YamlNode> Values)
    {
        public string PathOf(string key) => Path.Length == 0 ? key : $"{Path}.{key}";
    }

    /// <summary>An item entry with where its name was written, for the checks across entries.</summary>
    sealed record Named(ItemEntry Entry, YamlNode At, string Path);

    sealed record UserAt(UserEntry User, YamlNode At, string Path);

    static readonly string[] TopKeys = ["server", "security", "folders", "jobs"];
    static readonly string[] ServerKeys = ["executors", "quietPeriod", "rootUrl", "trustedProxies"];
    static readonly string[] SecurityKeys = ["users", "permissions", "triggerGuard"];
    static readonly string[] UserKeys = ["id", "password", "fullName"];
    static readonly string[] GuardKeys = ["enabled", "maxFailures", "windowSeconds"];
    static readonly string[] FolderKeys = ["name", "description", "permissions"];
    static readonly string[] JobKeys =
        ["name", "type", "description", "disabled", "concurrent", "quietPeriod", "authToken", "parameters", "scm", "triggers", "steps", "script", "scriptPath", "permissions"];
    static readonly string[] ParameterKeys = ["type", "name", "default", "description", "trim", "choices"];
    static readonly string[] ScmKeys = ["git"];
    static readonly string[] GitKeys = ["url", "branch"];
    static readonly string[] TriggerKeys = ["pollScm", "cron"];
    static readonly string[] StepKeys = ["sh"];

    static readonly Dictionary<string, ParameterType> ParameterTypes = new()
    {
        ["string"] = ParameterType.String,
        ["text"] = ParameterType.Text,
        ["boolean"] = ParameterType.Boolean,
        ["choice"] = ParameterType.Choice,
        ["password"] = ParameterType.Password,
    };

    [GeneratedRegex(@"\$\$\{|\$\{(?:(?<name>[A-Za-z_][A-Za-z0-9_]*)\})?")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex UserId();

    sealed class Reader(string file, Func<string, string?> env)
    {
        public List<(long Line, string Text)> Errors { get; } = [];

        void Error(YamlNode at, string path, string message) =>
            Errors.Add((at.Start.Line, path.Length == 0 ? $"{file}:{at.Start.Line}: {message}" : $"{file}:{at.Start.Line}: {path}: {message}"));

        public ValetConfig Read(YamlNode root)
        {
            var top = Map(root, "", TopKeys);
            if (top is null)
                return new();
            var folders = List(top, "folders").Select((n, i) => Folder(n, $"folders[{i}]")).OfType<Named>().ToList();
            var jobs = List(top, "jobs").Select((n, i) => Job(n, $"jobs[{i}]")).OfType<Named>().ToList();
            CheckNames([.. folders, .. jobs]);
            return new ValetConfig
            {
                Server = Server(Sub(top, "server", ServerKeys)),
                Security = Security(Sub(top, "security", SecurityKeys)),
                Folders = [.. folders.Select(f => f.Entry)],
                Jobs = [.. jobs.Select(j => j.Entry)],
            };
        }

        ServerSettings Server(Fields? f)
        {
            if (f is null)
                return new();
            var defaults = new ServerSettings();
            return new ServerSettings
            {
                Executors = Int(f, "executors", 1),
                QuietPeriod = Int(f, "quietPeriod", 0) ?? defaults.QuietPeriod,
                RootUrl = RootUrl(f),
                TrustedProxies = [.. Strings(f, "trustedProxies", (value, node, path) =>
                    IsAddressOrRange(value) ? value : Fail(node, path, $"'{value}' is not an IP address or CIDR range (10.0.0.5, 192.168.0.0/24)"))],
            };
        }

        string? RootUrl(Fields f)
        {
            var url = Text(f, "rootUrl");
            if (url is null)
                return null;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
                return Fail(f.Values["rootUrl"], f.PathOf("rootUrl"), $"'{url}' is not an absolute http or https URL without query or fragment");
            return url.EndsWith('/') ? url : url + "/";
        }

        static bool IsAddressOrRange(string value)
        {
            var slash = value.IndexOf('/');
            var address = slash < 0 ? value : value[..slash];
            // IPAddress.TryParse also takes "10" as 0.0.0.10; a proxy list wants dotted quads only.
            if (!address.Contains(':') && address.Count(c => c == '.') != 3)
                return false;
            return slash < 0 ? IPAddress.TryParse(value, out _) : IPNetwork.TryParse(value, out _);
        }

        SecuritySettings Security(Fields? f)
        {
            if (f is null)
                return new();
            var users = List(f, "users").Select((n, i) => User(n, $"{f.PathOf("users")}[{i}]")).OfType<UserAt>().ToList();
            var seen = new Dictionary<string, UserAt>(StringComparer.OrdinalIgnoreCase);
            foreach (var u in users)
            {
                if (seen.TryGetValue(u.User.Id, out var first))
                    Error(u.At, u.Path, $"user '{u.User.Id}' is already defined at line {first.At.Start.Line} ({first.Path})");
                else
                    seen[u.User.Id] = u;
            }
            var guard = Sub(f, "triggerGuard", GuardKeys);
            var defaults = new TriggerGuardSettings();
            return new SecuritySettings
            {
                Users = [.. users.Select(u => u.User)],
                Permissions = f.Values.TryGetValue("permissions", out var p) ? Grants(p, f.PathOf("permissions"), itemScope: false) : null,
                TriggerGuard = guard is null ? defaults : new TriggerGuardSettings
                {
                    Enabled = Bool(guard, "enabled") ?? defaults.Enabled,
                    MaxFailures = Int(guard, "maxFailures", 1) ?? defaults.MaxFailures,
                    WindowSeconds = Int(guard, "windowSeconds", 1) ?? defaults.WindowSeconds,
                },
            };
        }

        UserAt? User(YamlNode node, string path)
        {
            var f = Map(node, path, UserKeys);
            if (f is null)
                return null;
            var id = Required(f, "id");
            if (id is not null && UserIdProblem(id) is { } problem)
                id = Fail(f.Values["id"], f.PathOf("id"), $"'{id}': {problem}");
            var password = Required(f, "password");
            if (password is "")
                password = Fail(f.Values["password"], f.PathOf("password"), "must not be empty");
            var fullName = Text(f, "fullName");
            return id is null || password is null ? null : new UserAt(new UserEntry(id, password, fullName), f.Values["id"], path);
        }

        static string? UserIdProblem(string id) =>
            !UserId().IsMatch(id) ? "a user id must match [A-Za-z0-9._-]{1,64}"
            : id is "." or ".." ? "a user id must not be '.' or '..'"
            : id is "authenticated" or "anonymous" ? $"'{id}' is reserved for the authorization matrix"
            : null;

        /// <summary>principal → permission names; item grants may only name Job permissions.</summary>
        Dictionary<string, IReadOnlyList<string>> Grants(YamlNode node, string path, bool itemScope)
        {
            var grants = new Dictionary<string, IReadOnlyList<string>>();
            if (node is not YamlMappingNode map)
            {
                WrongType(node, path, "a mapping of user id to permission names");
                return grants;
            }
            foreach (var (key, value) in map.Children)
            {
                if (key is not YamlScalarNode { Value: { } principal })
                {
                    Error(key, path, "keys must be user ids, 'authenticated' or 'anonymous'");
                    continue;
                }
                var at = $"{path}.{principal}";
                if (!UserId().IsMatch(principal))
                    Error(key, at, $"'{principal}' is not a user id, 'authenticated' or 'anonymous' (a user id must match [A-Za-z0-9._-]{{1,64}})");
                grants[principal] = [.. Strings(value, at, (name, n, p) => Permission.FromName(name) switch
                {
                    null => Fail(n, p, $"unknown permission '{name}' ({string.Join(", ", Permission.All.Select(x => x.Name))})"),
                    { } perm when itemScope && !perm.Name.StartsWith("Job/", StringComparison.Ordinal) => Fail(n, p, $"'{name}' applies to the whole server; item grants take Job permissions"),
                    { } perm => perm.Name,
                }).Distinct()];
            }
            return grants;
        }

        Named? Folder(YamlNode node, string path)
        {
            var f = Map(node, path, FolderKeys);
            if (f is null)
                return null;
            var name = FullName(f);
            var config = new ItemConfig
            {
                Kind = ItemKind.Folder,
                Description = Text(f, "description") ?? "",
                Permissions = Permissions(f),
            };
            return name is null ? null : new Named(new ItemEntry(name, config, null), f.Values["name"], path);
        }

        Named? Job(YamlNode node, string path)
        {
            var f = Map(node, path, JobKeys);
            if (f is null)
                return null;
            var name = FullName(f);
            ItemKind? kind = Text(f, "type") switch
            {
                null or "freestyle" => ItemKind.Freestyle,
                "pipeline" => ItemKind.Pipeline,
                var t => Fail<ItemKind>(f.Values["type"], f.PathOf("type"), $"unknown job type '{t}' (freestyle, pipeline)"),
            };
            var parameters = Parameters(f);
            var scm = Sub(f, "scm", ScmKeys) is { } s ? Git(s) : null;
            var triggers = Sub(f, "triggers", TriggerKeys);
            var steps = List(f, "steps").Select((n, i) => Step(n, $"{f.PathOf("steps")}[{i}]")).OfType<string>().ToList();
            var script = Text(f, "script", substitute: false);
            var scriptPath = Text(f, "scriptPath");

            if (kind == ItemKind.Freestyle)
            {
                foreach (var key in new[] { "script", "scriptPath" }.Where(f.Values.ContainsKey))
                    Error(f.Values[key], f.PathOf(key), $"{key} is for pipeline jobs; a freestyle job runs steps");
            }
            else if (kind == ItemKind.Pipeline)
            {
                if (f.Values.TryGetValue("steps", out var stepsNode))
                    Error(stepsNode, f.PathOf("steps"), "steps are for freestyle jobs; a pipeline job runs its script");
                if (script is not null && scriptPath is not null)
                    Error(f.Values["scriptPath"], f.PathOf("scriptPath"), "a pipeline job takes script or scriptPath, not both");
                else if (script is null && !f.Values.ContainsKey("scm"))
                    Error(f.Node, path, scriptPath is null ? "a pipeline job needs script, or scm with scriptPath" : "scriptPath is read from the job's scm checkout, so the job needs scm");
                else if (script is null)
                    scriptPath ??= "Jenkinsfile";
            }

            var config = new ItemConfig
            {
                Kind = kind ?? ItemKind.Freestyle,
                Description = Text(f, "description") ?? "",
                Disabled = Bool(f, "disabled") ?? false,
                Concurrent = Bool(f, "concurrent") ?? false,
                QuietPeriod = Int(f, "quietPeriod", 0),
                Parameters = parameters,
                Scm = scm,
                PollScm = triggers is null ? null : Text(triggers, "pollScm"),
                Cron = triggers is null ? null : Text(triggers, "cron") is { } cron && cron.Trim().Length > 0 ? cron : null,
                Steps = steps,
                Script = script,
                ScriptPath = scriptPath,
                Permissions = Permissions(f),
            };
            var authToken = Text(f, "authToken");
            return name is null ? null : new Named(new ItemEntry(name, config, authToken), f.Values["name"], path);
        }

        Dictionary<string, IReadOnlyList<string>> Permissions(Fields f) =>
            f.Values.TryGetValue("permissions", out var p) ? Grants(p, f.PathOf("permissions"), itemScope: true) : [];

        /// <summary>The entry's full name when every segment keeps the item name rule.</summary>
        string? FullName(Fields f)
        {
            var name = Required(f, "name");
            if (name is null)
                return null;
            foreach (var segment in name.Split('/'))
            {
                if (ItemName.Problem(segment) is { } problem)
                    return Fail(f.Values["name"], f.PathOf("name"), name == segment ? $"'{name}': {problem}" : $"'{name}': segment '{segment}': {problem}");
            }
            return name;
        }

        /// <summary>Names are unique ignoring case across folders and jobs, and a job cannot hold other items.</summary>
        void CheckNames(List<Named> items)
        {
            var seen = new Dictionary<string, Named>();
            foreach (var item in items)
            {
                var name = item.Entry.FullName;
                if (!seen.TryGetValue(ItemName.Key(name), out var first))
                    seen[ItemName.Key(name)] = item;
                else if (first.Entry.Config.IsJob == item.Entry.Config.IsJob)
                    Error(item.At, item.Path + ".name", $"'{name}' is already defined at line {first.At.Start.Line} ({first.Path})");
                else
                    Error(item.At, item.Path + ".name", $"'{name}' is both a folder and a job (line {first.At.Start.Line}, {first.Path})");
            }
            foreach (var item in items)
            {
                var segments = item.Entry.FullName.Split('/');
                for (var i = 1; i < segments.Length; i++)
                {
                    var parent = string.Join('/', segments[..i]);
                    if (seen.TryGetValue(ItemName.Key(parent), out var p) && p.Entry.Config.IsJob)
                    {
                        Error(item.At, item.Path + ".name", $"'{p.Entry.FullName}' is a job, not a folder (line {p.At.Start.Line}, {p.Path})");
                        break;
                    }
                }
            }
        }

        List<ParameterDefinition> Parameters(Fields job)
        {
            var result = new List<ParameterDefinition>();
            var names = new Dictionary<string, long>();
            foreach (var (node, i) in List(job, "parameters").Select((n, i) => (n, i)))
            {
                if (Parameter(node, $"{job.PathOf("parameters")}[{i}]") is not { } p)
                    continue;
                var at = ((YamlMappingNode)node).Children[new YamlScalarNode("name")];
                if (names.TryGetValue(p.Name, out var line))
                    Error(at, $"{job.PathOf("parameters")}[{i}].name", $"parameter '{p.Name}' is already defined at line {line}");
                else
                    names[p.Name] = at.Start.Line;
                result.Add(p);
            }
            return result;
        }

        ParameterDefinition? Parameter(YamlNode node, string path)
        {
            var f = Map(node, path, ParameterKeys);
            if (f is null)
                return null;
            var typeName = Required(f, "type");
            ParameterType? type = typeName is null ? null
                : ParameterTypes.TryGetValue(typeName, out var t) ? t
                : Fail<ParameterType>(f.Values["type"], f.PathOf("type"), $"unknown parameter type '{typeName}' ({string.Join(", ", ParameterTypes.Keys)})");
            var name = Required(f, "name");
            if (name is not null && ParameterName.Problem(name) is { } problem)
                name = Fail(f.Values["name"], f.PathOf("name"), $"'{name}': {problem}");
            if (type is null || name is null)
                return null;

            if (type != ParameterType.String && f.Values.TryGetValue("trim", out var trim))
                Error(trim, f.PathOf("trim"), "trim applies only to string parameters");
            if (type != ParameterType.Choice && f.Values.TryGetValue("choices", out var list))
                Error(list, f.PathOf("choices"), "choices apply only to choice parameters");

            IReadOnlyList<string> choices = type == ParameterType.Choice ? Choices(f) : Array.Empty<string>();
            var @default = type == ParameterType.Boolean
                ? Bool(f, "default") is { } b ? (b ? "true" : "false") : "false"
                : Text(f, "default");
            if (type == ParameterType.Choice && @default is not null && choices.Count > 0 && !choices.Contains(@default))
                Error(f.Values["default"], f.PathOf("default"), $"'{@default}' is not one of the choices ({string.Join(", ", choices)})");

            return new ParameterDefinition
            {
                Type = type.Value,
                Name = name,
                Default = @default,
                Description = Text(f, "description") ?? "",
                Trim = type == ParameterType.String && (Bool(f, "trim") ?? false),
                Choices = choices,
            };
        }

        List<string> Choices(Fields f)
        {
            if (!f.Values.TryGetValue("choices", out var node))
            {
                Error(f.Node, f.Path, "a choice parameter needs a non-empty choices list");
                return [];
            }
            var seen = new HashSet<string>();
            var choices = Strings(f, "choices", (value, n, p) => seen.Add(value) ? value : Fail(n, p, $"'{value}' is listed twice"));
            if (choices.Count == 0 && node is YamlSequenceNode)
                Error(node, f.PathOf("choices"), "a choice parameter needs a non-empty choices list");
            return choices;
        }

        GitScm? Git(Fields scm)
        {
            if (Sub(scm, "git", GitKeys) is not { } git)
            {
                if (scm.Node.Children.Count == 0)
                    Error(scm.Node, scm.Path, "scm needs git: { url, branch }");
                return null;
            }
            var url = Required(git, "url");
            if (url is "")
                url = Fail(git.Values["url"], git.PathOf("url"), "must not be empty");
            var branch = Text(git, "branch") ?? "main";
            if (branch.Trim().Length == 0)
                branch = Fail(git.Values["branch"], git.PathOf("branch"), "must not be empty");
            return url is null || branch is null ? null : new GitScm(url, branch);
        }

        string? Step(YamlNode node, string path)
        {
            var f = Map(node, path, StepKeys);
            return f is null ? null : Required(f, "sh", substitute: false);
        }

        // Typed reads. Each reports what it finds wrong and returns null, so callers fall back to defaults
        // and go on collecting errors; the result is thrown away when there are any.

        Fields? Map(YamlNode node, string path, string[] keys)
        {
            if (node is not YamlMappingNode map)
                return WrongType<Fields>(node, path, "a mapping");
            var values = new Dictionary<string, YamlNode>();
            foreach (var (key, value) in map.Children)
            {
                if (key is not YamlScalarNode { Value: { } name })
                    Error(key, path, "keys must be plain text");
                else if (!keys.Contains(name))
                    Error(key, path.Length == 0 ? name : $"{path}.{name}", $"unknown key (expected one of {string.Join(", ", keys)})");
                else if (!IsNull(value))
                    values[name] = value;
            }
            return new Fields(map, path, values);
        }

        Fields? Sub(Fields f, string key, string[] keys) =>
            f.Values.TryGetValue(key, out var node) ? Map(node, f.PathOf(key), keys) : null;

        IReadOnlyList<YamlNode> List(Fields f, string key) =>
            !f.Values.TryGetValue(key, out var node) ? []
            : node is YamlSequenceNode list ? [.. list.Children]
            : WrongType<IReadOnlyList<YamlNode>>(node, f.PathOf(key), "a list") ?? [];

        List<string> Strings(Fields f, string key, Func<string, YamlNode, string, string?> check) =>
            f.Values.TryGetValue(key, out var node) ? Strings(node, f.PathOf(key), check) : [];

        /// <summary>A list of scalars, each substituted and then checked; a null value is an empty list.</summary>
        List<string> Strings(YamlNode node, string path, Func<string, YamlNode, string, string?> check)
        {
            if (IsNull(node))
                return [];
            if (node is not YamlSequenceNode list)
                return WrongType<List<string>>(node, path, "a list") ?? [];
            var result = new List<string>();
            foreach (var (item, i) in list.Children.Select((n, i) => (n, i)))
            {
                var at = $"{path}[{i}]";
                if (item is not YamlScalarNode scalar)
                    WrongType(item, at, "text");
                else if (Substitute(scalar, at) is { } value && check(value, item, at) is { } ok)
                    result.Add(ok);
            }
            return result;
        }

        string? Required(Fields f, string key, bool substitute = true) =>
            f.Values.ContainsKey(key) ? Text(f, key, substitute) : Fail(f.Node, f.Path, $"missing required key '{key}'");

        string? Text(Fields f, string key, bool substitute = true) => Scalar(f, key, "text", substitute);

        int? Int(Fields f, string key, int min)
        {
            var text = Scalar(f, key, "a whole number");
            if (text is null)
                return null;
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                return Fail<int>(f.Values[key], f.PathOf(key), $"expected a whole number, found '{text}'");
            return n >= min ? n : Fail<int>(f.Values[key], f.PathOf(key), $"must be at least {min}, found {n}");
        }

        bool? Bool(Fields f, string key) => Scalar(f, key, "true or false") switch
        {
            null => null,
            var s when s.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            var s when s.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            var s => Fail<bool>(f.Values[key], f.PathOf(key), $"expected true or false, found '{s}'"),
        };

        /// <summary>The scalar's text after ${NAME} substitution; null when absent or wrong.</summary>
        string? Scalar(Fields f, string key, string expected, bool substitute = true)
        {
            if (!f.Values.TryGetValue(key, out var node))
                return null;
            if (node is not YamlScalarNode scalar)
                return WrongType(node, f.PathOf(key), expected);
            return substitute ? Substitute(scalar, f.PathOf(key)) : scalar.Value ?? "";
        }

        /// <summary>Replaces ${NAME} with the variable and $${ with a literal ${; null when a variable is unset.</summary>
        string? Substitute(YamlScalarNode scalar, string path)
        {
            var failed = false;
            var value = Reference().Replace(scalar.Value ?? "", m =>
            {
                if (m.Value == "$${")
                    return "${";
                var name = m.Groups["name"];
                if (!name.Success)
                    Error(scalar, path, "'${' must start a reference ${NAME} with NAME matching [A-Za-z_][A-Za-z0-9_]* (write $${ for a literal ${)");
                else if (env(name.Value) is { } found)
                    return found;
                else
                    Error(scalar, path, $"environment variable {name.Value} is not set");
                failed = true;
                return m.Value;
            });
            return failed ? null : value;
        }

        string? WrongType(YamlNode node, string path, string expected) => WrongType<string>(node, path, expected);

        T? WrongType<T>(YamlNode node, string path, string expected) where T : class
        {
            var found = node switch
            {
                YamlMappingNode => "a mapping",
                YamlSequenceNode => "a list",
                YamlScalarNode s => $"'{s.Value}'",
                _ => "something else",
            };
            Error(node, path, $"expected {expected}, found {found}");
            return null;
        }

        string? Fail(YamlNode at, string path, string message)
        {
            Error(at, path, message);
            return null;
        }

        T? Fail<T>(YamlNode at, string path, string message) where T : struct
        {
            Error(at, path, message);
            return null;
        }
    }
}
