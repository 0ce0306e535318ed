using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Triggers;

namespace Valet.Core.Configuration;

/// <summary>
/// Gives meaning to what a format adapter read: the whole config file, or one item entry (config.json).
/// Every problem is collected with the location of the value it concerns, so one run reports them all.
/// </summary>
public sealed partial class ConfigValidator
{
    readonly Func<string, string?>? env;
    readonly List<ConfigError> errors = [];

    ConfigValidator(Func<string, string?>? env) => this.env = env;

    /// <summary>The file's settings, or null and every error, in line order.</summary>
    /// <param name="env">
    /// Looks up environment variables for <c>${NAME}</c> in values (null = unset); null for sources that must
    /// not read the server's environment.
    /// </param>
    public static (ValetConfig? Config, IReadOnlyList<ConfigError> Errors) ValidateFile(ConfigNode? root, Func<string, string?>? env)
    {
        if (root is null)
            return (new ValetConfig(), []);
        var validator = new ConfigValidator(env);
        var config = validator.Read(root);
        return validator.Result(config);
    }

    /// <summary>
    /// One item entry sent through the API: a `jobs:` entry, or a `folders:` entry with `"type": "folder"`.
    /// <paramref name="fullName"/> is taken when the entry names none. Nothing is substituted, so an API
    /// caller cannot read the server's environment.
    /// </summary>
    public static (ItemEntry? Entry, IReadOnlyList<ConfigError> Errors) ValidateItem(ConfigNode root, string fullName)
    {
        var validator = new ConfigValidator(env: null);
        if (root is not ConfigMapping entry)
            return (null, [new ConfigError(root.At, "an item entry must be an object")]);
        var isFolder = entry.Entries.Any(e => e is { Key: "type", Value: ConfigScalar { Value: "folder", IsNull: false } });
        var named = isFolder
            ? validator.Folder(entry with { Entries = [.. entry.Entries.Where(e => e.Key != "type")] }, fullName)
            : validator.Job(entry, fullName);
        return validator.Result(named?.Entry);
    }

    (T?, IReadOnlyList<ConfigError>) Result<T>(T? value) where T : class =>
        errors.Count == 0 ? (value, []) : (null, [.. errors.OrderBy(e => e.At.Line)]);

    /// <summary>A mapping's values by key, null values left out so optional keys read as absent.</summary>
    sealed record Fields(ConfigMapping Node, Dictionary<string, ConfigNode> Values)
    {
        public SourceLocation At => Node.At;
    }

    /// <summary>An item entry with where it and its name were written, for the checks across entries.</summary>
    sealed record Named(ItemEntry Entry, SourceLocation At, SourceLocation NameAt);

    sealed record UserAt(UserEntry User, SourceLocation At, SourceLocation IdAt);

    static readonly string[] TopKeys = ["server", "security", "folders", "jobs"];
    static readonly string[] ServerKeys = ["executors", "quietPeriod", "rootUrl", "trustedProxies", "maxQueuedPerJob", "environment"];
    static readonly string[] SecurityKeys = ["users", "permissions", "triggerGuard"];
    static readonly string[] UserKeys = ["id", "password", "fullName"];
    static readonly string[] GuardKeys = ["enabled", "maxFailures", "windowSeconds"];
    static readonly string[] FolderKeys = ["name", "description", "permissions"];
    static readonly string[] JobKeys =
        ["name", "type", "description", "disabled", "concurrent", "quietPeriod", "authToken", "parameters", "scm", "triggers", "steps", "script", "scriptPath", "permissions"];
    static readonly string[] ParameterKeys = ["type", "name", "default", "description", "trim", "choices"];
    static readonly string[] ScmKeys = ["git"];
    static readonly string[] GitKeys = ["url", "branch", "credentials"];
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

    // Jenkins' rule for credentials ids, bounded.
    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,256}\z")]
    private static partial Regex CredentialsId();

    void Error(SourceLocation at, string message) => errors.Add(new ConfigError(at, message));

    ValetConfig Read(ConfigNode root)
    {
        var top = Map(root, TopKeys);
        if (top is null)
            return new();
        var folders = List(top, "folders").Select(n => Folder(n, null)).OfType<Named>().ToList();
        var jobs = List(top, "jobs").Select(n => Job(n, null)).OfType<Named>().ToList();
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
            MaxQueuedPerJob = Int(f, "maxQueuedPerJob", 1) ?? defaults.MaxQueuedPerJob,
            Environment = BuildEnvironment(f),
            TrustedProxies = [.. Strings(f, "trustedProxies", (value, at) =>
                IsAddressOrRange(value) ? value : Fail(at, $"'{value}' is not an IP address or CIDR range (10.0.0.5, 192.168.0.0/24)"))],
        };
    }

    /// <summary><c>server.environment</c>: a mapping of variable name to text, substituted like any scalar.</summary>
    Dictionary<string, string> BuildEnvironment(Fields f)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!f.Values.TryGetValue("environment", out var node))
            return environment;
        if (node is not ConfigMapping map)
            return WrongType<Dictionary<string, string>>(node, "a mapping of variable name to value") ?? environment;
        foreach (var entry in map.Entries)
        {
            if (entry.Key is not { } name || !EnvironmentName().IsMatch(name))
                Error(entry.KeyAt, $"'{entry.Key}' is not a variable name (letters, digits and '_', not starting with a digit)");
            else if (entry.Value is not ConfigScalar scalar)
                WrongType(entry.Value, "text");
            else if (Substitute(scalar) is { } value)
                environment[name] = value;
        }
        return environment;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial System.Text.RegularExpressions.Regex EnvironmentName();

    string? RootUrl(Fields f)
    {
        var url = Text(f, "rootUrl");
        if (url is null)
            return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return Fail(f.Values["rootUrl"].At, $"'{url}' is not an absolute http or https URL without query or fragment");
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
        var users = List(f, "users").Select(User).OfType<UserAt>().ToList();
        var seen = new Dictionary<string, UserAt>(StringComparer.OrdinalIgnoreCase);
        foreach (var u in users)
        {
            if (seen.TryGetValue(u.User.Id, out var first))
                Error(u.At with { Line = u.IdAt.Line }, $"user '{u.User.Id}' is already defined at line {first.IdAt.Line} ({first.At.Path})");
            else
                seen[u.User.Id] = u;
        }
        var guard = Sub(f, "triggerGuard", GuardKeys);
        var defaults = new TriggerGuardSettings();
        return new SecuritySettings
        {
            Users = [.. users.Select(u => u.User)],
            Permissions = f.Values.TryGetValue("permissions", out var p) ? Grants(p, itemScope: false) : null,
            TriggerGuard = guard is null ? defaults : new TriggerGuardSettings
            {
                Enabled = Bool(guard, "enabled") ?? defaults.Enabled,
                MaxFailures = Int(guard, "maxFailures", 1) ?? defaults.MaxFailures,
                WindowSeconds = Int(guard, "windowSeconds", 1) ?? defaults.WindowSeconds,
            },
        };
    }

    UserAt? User(ConfigNode node)
    {
        var f = Map(node, UserKeys);
        if (f is null)
            return null;
        var id = Required(f, "id");
        if (id is not null && UserIdProblem(id) is { } problem)
            id = Fail(f.Values["id"].At, $"'{id}': {problem}");
        var password = Required(f, "password");
        if (password is "")
            password = Fail(f.Values["password"].At, "must not be empty");
        var fullName = Text(f, "fullName");
        return id is null || password is null ? null : new UserAt(new UserEntry(id, password, fullName), f.At, f.Values["id"].At);
    }

    static string? UserIdProblem(string id) =>
        !UserId().IsMatch(id) ? "a user id must match [A-Za-z0-9._-]{1,64}"
        : id is "." or ".." ? "a user id must not be '.' or '..'"
        : id is "authenticated" or "anonymous" ? $"'{id}' is reserved for the authorization matrix"
        : null;

    /// <summary>principal → permission names; item grants may only name Job permissions.</summary>
    Dictionary<string, IReadOnlyList<string>> Grants(ConfigNode node, bool itemScope)
    {
        var grants = new Dictionary<string, IReadOnlyList<string>>();
        if (node is not ConfigMapping map)
        {
            WrongType(node, "a mapping of user id to permission names");
            return grants;
        }
        foreach (var entry in map.Entries)
        {
            if (entry.Key is not { } principal)
            {
                Error(map.At with { Line = entry.KeyAt.Line }, "keys must be user ids, 'authenticated' or 'anonymous'");
                continue;
            }
            if (!UserId().IsMatch(principal))
                Error(entry.KeyAt, $"'{principal}' is not a user id, 'authenticated' or 'anonymous' (a user id must match [A-Za-z0-9._-]{{1,64}})");
            grants[principal] = [.. Strings(entry.Value, (name, at) => Permission.FromName(name) switch
            {
                null => Fail(at, $"unknown permission '{name}' ({string.Join(", ", Permission.All.Select(x => x.Name))})"),
                { } perm when itemScope && !perm.Name.StartsWith("Job/", StringComparison.Ordinal) => Fail(at, $"'{name}' applies to the whole server; item grants take Job permissions"),
                { } perm => perm.Name,
            }).Distinct()];
        }
        return grants;
    }

    Named? Folder(ConfigNode node, string? defaultName)
    {
        var f = Map(node, FolderKeys);
        if (f is null)
            return null;
        var (name, nameAt) = FullName(f, defaultName);
        var folder = new Folder
        {
            Description = Text(f, "description") ?? "",
            Permissions = Permissions(f),
        };
        return name is null ? null : new Named(new ItemEntry(name, folder, null), f.At, nameAt);
    }

    Named? Job(ConfigNode node, string? defaultName)
    {
        var f = Map(node, JobKeys);
        if (f is null)
            return null;
        var (name, nameAt) = FullName(f, defaultName);
        bool? pipeline = Text(f, "type") switch
        {
            null or "freestyle" => false,
            "pipeline" => true,
            var t => FailWith<bool>(f.Values["type"].At, $"unknown job type '{t}' (freestyle, pipeline)"),
        };
        var parameters = Parameters(f);
        var scm = Sub(f, "scm", ScmKeys) is { } s ? Git(s) : null;
        var triggers = Sub(f, "triggers", TriggerKeys);
        var steps = List(f, "steps").Select(Step).OfType<string>().ToList();
        var script = Text(f, "script", substitute: false);
        var scriptPath = Text(f, "scriptPath");

        if (pipeline == false)
        {
            foreach (var key in new[] { "script", "scriptPath" }.Where(f.Values.ContainsKey))
                Error(f.Values[key].At, $"{key} is for pipeline jobs; a freestyle job runs steps");
        }
        else if (pipeline == true)
        {
            if (f.Values.TryGetValue("steps", out var stepsNode))
                Error(stepsNode.At, "steps are for freestyle jobs; a pipeline job runs its script");
            if (script is not null && scriptPath is not null)
                Error(f.Values["scriptPath"].At, "a pipeline job takes script or scriptPath, not both");
            else if (script is null && !f.Values.ContainsKey("scm"))
                Error(f.At, scriptPath is null ? "a pipeline job needs script, or scm with scriptPath" : "scriptPath is read from the job's scm checkout, so the job needs scm");
            else if (script is null)
                scriptPath ??= "Jenkinsfile";
        }

        JobDefinition job = pipeline == true
            ? new PipelineJob { Script = script, ScriptPath = scriptPath }
            : new FreestyleJob { Steps = steps };
        var description = Text(f, "description") ?? "";
        var disabled = Bool(f, "disabled") ?? false;
        var concurrent = Bool(f, "concurrent") ?? false;
        var quietPeriod = Int(f, "quietPeriod", 0);
        List<TriggerDefinition> startedBy = [];
        if (triggers is not null && Schedule(triggers, "pollScm", name) is { } poll)
            startedBy.Add(new PollScmTrigger(poll));
        if (triggers is not null && Schedule(triggers, "cron", name) is { } cron && cron.Trim().Length > 0)
            startedBy.Add(new CronTrigger(cron));
        job = job with
        {
            Description = description,
            Disabled = disabled,
            Concurrent = concurrent,
            QuietPeriod = quietPeriod,
            Parameters = parameters,
            Scm = scm,
            Triggers = startedBy,
            Permissions = Permissions(f),
        };
        var authToken = Text(f, "authToken");
        return name is null ? null : new Named(new ItemEntry(name, job, authToken), f.At, nameAt);
    }

    /// <summary>A trigger's Jenkins cron spec, checked with the job's name (which `H` hashes) and its `TZ=` zone, if any.</summary>
    string? Schedule(Fields triggers, string key, string? jobName)
    {
        var spec = Text(triggers, key);
        if (spec is null || JenkinsCron.TryParse(spec, jobName ?? "", TimeZoneInfo.Utc, out var problem) is not null)
            return spec;
        return Fail(triggers.Values[key].At, $"job '{jobName}': triggers.{key}: invalid cron spec {problem}");
    }

    Dictionary<string, IReadOnlyList<string>> Permissions(Fields f) =>
        f.Values.TryGetValue("permissions", out var p) ? Grants(p, itemScope: true) : [];

    /// <summary>The entry's full name when every segment keeps the item name rule, and where it was written.</summary>
    (string? Name, SourceLocation At) FullName(Fields f, string? defaultName)
    {
        // An API entry without a name takes the URL's; it is written nowhere, so errors point at the entry.
        if (defaultName is not null && !f.Node.Entries.Any(e => e.Key == "name"))
            return (defaultName, f.At);
        var name = Required(f, "name");
        if (name is null)
            return (null, f.At);
        var at = f.Values["name"].At;
        foreach (var segment in name.Split('/'))
        {
            if (ItemName.Problem(segment) is { } problem)
                return (Fail(at, name == segment ? $"'{name}': {problem}" : $"'{name}': segment '{segment}': {problem}"), at);
        }
        return (name, at);
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
            else if ((first.Entry.Definition is JobDefinition) == (item.Entry.Definition is JobDefinition))
                Error(item.NameAt, $"'{name}' is already defined at line {first.NameAt.Line} ({first.At.Path})");
            else
                Error(item.NameAt, $"'{name}' is both a folder and a job (line {first.NameAt.Line}, {first.At.Path})");
        }
        foreach (var item in items)
        {
            var segments = item.Entry.FullName.Split('/');
            for (var i = 1; i < segments.Length; i++)
            {
                var parent = string.Join('/', segments[..i]);
                if (seen.TryGetValue(ItemName.Key(parent), out var p) && p.Entry.Definition is JobDefinition)
                {
                    Error(item.NameAt, $"'{p.Entry.FullName}' is a job, not a folder (line {p.NameAt.Line}, {p.At.Path})");
                    break;
                }
            }
        }
    }

    List<ParameterDefinition> Parameters(Fields job)
    {
        var result = new List<ParameterDefinition>();
        var names = new Dictionary<string, long>();
        foreach (var node in List(job, "parameters"))
        {
            if (Parameter(node) is not { } p)
                continue;
            var at = ((ConfigMapping)node).Entries.First(e => e.Key == "name").Value.At;
            if (names.TryGetValue(p.Name, out var line))
                Error(at, $"parameter '{p.Name}' is already defined at line {line}");
            else
                names[p.Name] = at.Line;
            result.Add(p);
        }
        return result;
    }

    ParameterDefinition? Parameter(ConfigNode node)
    {
        var f = Map(node, ParameterKeys);
        if (f is null)
            return null;
        var typeName = Required(f, "type");
        ParameterType? type = typeName is null ? null
            : ParameterTypes.TryGetValue(typeName, out var t) ? t
            : FailWith<ParameterType>(f.Values["type"].At, $"unknown parameter type '{typeName}' ({string.Join(", ", ParameterTypes.Keys)})");
        var name = Required(f, "name");
        if (name is not null && ParameterName.Problem(name) is { } problem)
            name = Fail(f.Values["name"].At, $"'{name}': {problem}");
        if (type is null || name is null)
            return null;

        if (type != ParameterType.String && f.Values.TryGetValue("trim", out var trim))
            Error(trim.At, "trim applies only to string parameters");
        if (type != ParameterType.Choice && f.Values.TryGetValue("choices", out var list))
            Error(list.At, "choices apply only to choice parameters");

        IReadOnlyList<string> choices = type == ParameterType.Choice ? Choices(f) : Array.Empty<string>();
        var @default = type == ParameterType.Boolean
            ? Bool(f, "default") is { } b ? (b ? "true" : "false") : "false"
            : Text(f, "default");
        if (type == ParameterType.Choice && @default is not null && choices.Count > 0 && !choices.Contains(@default))
            Error(f.Values["default"].At, $"'{@default}' is not one of the choices ({string.Join(", ", choices)})");

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
            Error(f.At, "a choice parameter needs a non-empty choices list");
            return [];
        }
        var seen = new HashSet<string>();
        var choices = Strings(f, "choices", (value, at) => seen.Add(value) ? value : Fail(at, $"'{value}' is listed twice"));
        if (choices.Count == 0 && node is ConfigList)
            Error(node.At, "a choice parameter needs a non-empty choices list");
        return choices;
    }

    GitScm? Git(Fields scm)
    {
        if (Sub(scm, "git", GitKeys) is not { } git)
        {
            if (scm.Node.Entries.Count == 0)
                Error(scm.At, "scm needs git: { url, branch }");
            return null;
        }
        var url = Required(git, "url");
        if (url is "")
            url = Fail(git.Values["url"].At, "must not be empty");
        var branch = Text(git, "branch") ?? "main";
        if (branch.Trim().Length == 0)
            branch = Fail(git.Values["branch"].At, "must not be empty");
        var credentials = Text(git, "credentials");
        if (credentials is not null && !CredentialsId().IsMatch(credentials))
            credentials = Fail(git.Values["credentials"].At,
                $"'{credentials}' is not a credentials id (1-256 letters, digits, '_', '.' or '-'): it names credentials in a store, it is not a secret");
        return url is null || branch is null ? null : new GitScm(url, branch, credentials);
    }

    string? Step(ConfigNode node)
    {
        var f = Map(node, StepKeys);
        return f is null ? null : Required(f, "sh", substitute: false);
    }

    // Typed reads. Each reports what it finds wrong and returns null, so callers fall back to defaults
    // and go on collecting errors; the result is thrown away when there are any.

    Fields? Map(ConfigNode node, string[] keys)
    {
        if (node is not ConfigMapping map)
            return WrongType<Fields>(node, "a mapping");
        var values = new Dictionary<string, ConfigNode>();
        foreach (var entry in map.Entries)
        {
            if (entry.Key is not { } name)
                Error(map.At with { Line = entry.KeyAt.Line }, "keys must be plain text");
            else if (!keys.Contains(name))
                Error(entry.KeyAt, $"unknown key (expected one of {string.Join(", ", keys)})");
            else if (entry.Value is not ConfigScalar { IsNull: true })
                values[name] = entry.Value;
        }
        return new Fields(map, values);
    }

    Fields? Sub(Fields f, string key, string[] keys) =>
        f.Values.TryGetValue(key, out var node) ? Map(node, keys) : null;

    IReadOnlyList<ConfigNode> List(Fields f, string key) =>
        !f.Values.TryGetValue(key, out var node) ? []
        : node is ConfigList list ? list.Items
        : WrongType<IReadOnlyList<ConfigNode>>(node, "a list") ?? [];

    List<string> Strings(Fields f, string key, Func<string, SourceLocation, string?> check) =>
        f.Values.TryGetValue(key, out var node) ? Strings(node, check) : [];

    /// <summary>A list of scalars, each substituted and then checked; a null value is an empty list.</summary>
    List<string> Strings(ConfigNode node, Func<string, SourceLocation, string?> check)
    {
        if (node is ConfigScalar { IsNull: true })
            return [];
        if (node is not ConfigList list)
            return WrongType<List<string>>(node, "a list") ?? [];
        var result = new List<string>();
        foreach (var item in list.Items)
        {
            if (item is not ConfigScalar scalar)
                WrongType(item, "text");
            else if (Substitute(scalar) is { } value && check(value, item.At) is { } ok)
                result.Add(ok);
        }
        return result;
    }

    string? Required(Fields f, string key, bool substitute = true) =>
        f.Values.ContainsKey(key) ? Text(f, key, substitute) : Fail(f.At, $"missing required key '{key}'");

    string? Text(Fields f, string key, bool substitute = true) => Scalar(f, key, "text", substitute);

    int? Int(Fields f, string key, int min)
    {
        var text = Scalar(f, key, "a whole number");
        if (text is null)
            return null;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            return FailWith<int>(f.Values[key].At, $"expected a whole number, found '{text}'");
        return n >= min ? n : FailWith<int>(f.Values[key].At, $"must be at least {min}, found {n}");
    }

    bool? Bool(Fields f, string key) => Scalar(f, key, "true or false") switch
    {
        null => null,
        var s when s.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
        var s when s.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
        var s => FailWith<bool>(f.Values[key].At, $"expected true or false, found '{s}'"),
    };

    /// <summary>The scalar's text after ${NAME} substitution; null when absent or wrong.</summary>
    string? Scalar(Fields f, string key, string expected, bool substitute = true)
    {
        if (!f.Values.TryGetValue(key, out var node))
            return null;
        if (node is not ConfigScalar scalar)
            return WrongType(node, expected);
        return substitute ? Substitute(scalar) : scalar.Value;
    }

    /// <summary>Replaces ${NAME} with the variable and $${ with a literal ${; null when a variable is unset.</summary>
    string? Substitute(ConfigScalar scalar)
    {
        if (env is null)
            return scalar.Value;
        var failed = false;
        var value = Reference().Replace(scalar.Value, m =>
        {
            if (m.Value == "$${")
                return "${";
            var name = m.Groups["name"];
            if (!name.Success)
                Error(scalar.At, "'${' must start a reference ${NAME} with NAME matching [A-Za-z_][A-Za-z0-9_]* (write $${ for a literal ${)");
            else if (env(name.Value) is { } found)
                return found;
            else
                Error(scalar.At, $"environment variable {name.Value} is not set");
            failed = true;
            return m.Value;
        });
        return failed ? null : value;
    }

    string? WrongType(ConfigNode node, string expected) => WrongType<string>(node, expected);

    T? WrongType<T>(ConfigNode node, string expected) where T : class
    {
        var found = node switch
        {
            ConfigMapping => "a mapping",
            ConfigList => "a list",
            ConfigScalar s => $"'{s.Value}'",
            _ => "something else",
        };
        Error(node.At, $"expected {expected}, found {found}");
        return null;
    }

    string? Fail(SourceLocation at, string message)
    {
        Error(at, message);
        return null;
    }

    T? FailWith<T>(SourceLocation at, string message) where T : struct
    {
        Error(at, message);
        return null;
    }
}
