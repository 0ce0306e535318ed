using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Valet.Core.Items;
using Valet.Core.Scm;

namespace Valet.Core.Configuration;

/// <summary>A config.xml read: the entry for the validator, the document as posted, and what Valet keeps without using.</summary>
/// <param name="AuthToken">The `authToken` text as written: clear, `{valet-hmac}…`, Jenkins' `{AQAA…}`, or null.</param>
public sealed record XmlItem(ConfigNode Root, XDocument Document, IReadOnlyList<string> Kept, string? AuthToken)
{
    /// <summary>Builders other than `hudson.tasks.Shell`, by element name, in order.</summary>
    public IReadOnlyList<string> UnknownBuilders { get; init; } = [];
}

/// <summary>
/// The config.xml adapter (remote-api.md §7): Jenkins' freestyle `project` and folder elements mapped to
/// the entry a `jobs:` or `folders:` item has, with element paths as locations, and the writer back.
/// Elements Valet does not use stay in the stored document and are written back where they were.
/// </summary>
public static partial class XmlConfig
{
    public const string FolderClass = "com.cloudbees.hudson.plugins.folder.Folder";
    public const string HmacPrefix = "{valet-hmac}";
    public const string SecretPrefix = "{valet-secret}";
    const string ParametersProperty = "hudson.model.ParametersDefinitionProperty";
    const string GitScmClass = "hudson.plugins.git.GitSCM";
    const string NullScmClass = "hudson.scm.NullSCM";

    static readonly Dictionary<string, string> ParameterElements = new()
    {
        ["hudson.model.StringParameterDefinition"] = "string",
        ["hudson.model.TextParameterDefinition"] = "text",
        ["hudson.model.BooleanParameterDefinition"] = "boolean",
        ["hudson.model.ChoiceParameterDefinition"] = "choice",
        ["hudson.model.PasswordParameterDefinition"] = "password",
    };

    // Elements Jenkins writes at their defaults; kept like any other, but not worth a warning.
    static readonly Dictionary<string, string> Boilerplate = new()
    {
        ["keepDependencies"] = "false",
        ["canRoam"] = "true",
        ["blockBuildWhenDownstreamBuilding"] = "false",
        ["blockBuildWhenUpstreamBuilding"] = "false",
        ["publishers"] = "",
        ["buildWrappers"] = "",
        ["actions"] = "",
        ["properties"] = "",
        ["folderViews"] = "*",
        ["healthMetrics"] = "*",
        ["icon"] = "*",
        ["views"] = "*",
        ["viewsTabBar"] = "*",
        ["primaryView"] = "*",
    };

    static readonly string[] GitBoilerplate = ["configVersion", "doGenerateSubmoduleConfigurations", "submoduleCfg", "extensions", "gitTool"];

    [GeneratedRegex("""^\s*<\?xml\s+version\s*=\s*(['"])1\.1\1""")]
    private static partial Regex Version11();

    /// <summary>Far deeper than any Jenkins config.xml nests.</summary>
    public const int MaxNesting = 64;

    /// <summary>Parses config.xml; <paramref name="decrypt"/> opens `{valet-secret}` password defaults.</summary>
    public static (XmlItem? Item, IReadOnlyList<ConfigError> Errors) Read(string source, string text, Func<string, string?> decrypt)
    {
        // Jenkins declares 1.1, which .NET's reader refuses; nothing in the subset depends on 1.1 rules.
        text = Version11().Replace(text, m => m.Value[..^4] + "1.0" + m.Value[^1], 1);
        XDocument document;
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersFromEntities = 0 };
            // The stored copy is indented, so its size grows with the square of the nesting: refuse deep
            // documents before they are built.
            using (var scan = XmlReader.Create(new StringReader(text), settings))
            {
                while (scan.Read())
                {
                    if (scan.Depth >= MaxNesting && scan.NodeType == XmlNodeType.Element)
                    {
                        var line = (IXmlLineInfo)scan;
                        return (null, [new ConfigError(new SourceLocation(source, line.LineNumber, $"column {line.LinePosition}"), $"elements nest deeper than {MaxNesting}")]);
                    }
                }
            }
            using var reader = XmlReader.Create(new StringReader(text), settings);
            document = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            var message = e.Message.Contains("DTD", StringComparison.Ordinal)
                ? "a DTD is not allowed in config.xml"
                : StripPosition(e.Message);
            return (null, [new ConfigError(new SourceLocation(source, e.LineNumber, $"column {e.LinePosition}"), message)]);
        }
        var reading = new Reading(source, decrypt);
        var root = document.Root!;
        ConfigNode? entry = root.Name.LocalName switch
        {
            "project" or "hudson.model.FreeStyleProject" => reading.Project(root),
            FolderClass => reading.Folder(root),
            "flow-definition" => reading.Fail(root, "pipeline jobs (flow-definition) arrive with the pipeline issue; config.xml takes freestyle projects and folders for now"),
            var other => reading.Fail(root, $"unknown item class '{other}' (project, {FolderClass})"),
        };
        return reading.Errors.Count > 0 || entry is null
            ? (null, reading.Errors)
            : (new XmlItem(entry, document, reading.Kept, root.Element("authToken")?.Value) { UnknownBuilders = reading.UnknownBuilders }, []);
    }

    static string StripPosition(string message)
    {
        var i = message.IndexOf(" Line ", StringComparison.Ordinal);
        return i < 0 ? message : message[..i];
    }

    static string PathOf(XElement e) => "/" + string.Join('/', e.AncestorsAndSelf().Reverse().Select(a => a.Name.LocalName));

    sealed class Reading(string source, Func<string, string?> decrypt)
    {
        public List<ConfigError> Errors { get; } = [];
        public List<string> Kept { get; } = [];
        public List<string> UnknownBuilders { get; } = [];

        SourceLocation At(XElement e) => new(source, ((IXmlLineInfo)e).LineNumber, PathOf(e));

        public ConfigNode? Fail(XElement e, string message)
        {
            Errors.Add(new ConfigError(At(e), message));
            return null;
        }

        ConfigScalar Scalar(XElement e, string value) => new(At(e), value, IsNull: false);

        ConfigEntry Entry(string key, XElement e, ConfigNode value) => new(key, At(e), value);

        void Keep(XElement e)
        {
            if (Boilerplate.TryGetValue(e.Name.LocalName, out var value) && (value == "*" || (!e.HasElements && e.Value.Trim() == value)))
                return;
            Kept.Add(PathOf(e));
        }

        public ConfigNode Folder(XElement root)
        {
            var entries = new List<ConfigEntry> { Entry("type", root, Scalar(root, "folder")) };
            foreach (var e in root.Elements())
            {
                if (e.Name.LocalName == "description")
                    entries.Add(Entry("description", e, Scalar(e, e.Value)));
                else
                    Keep(e);
            }
            return new ConfigMapping(At(root), entries);
        }

        public ConfigNode Project(XElement root)
        {
            var entries = new List<ConfigEntry>();
            foreach (var e in root.Elements())
            {
                switch (e.Name.LocalName)
                {
                    case "description":
                        entries.Add(Entry("description", e, Scalar(e, e.Value)));
                        break;
                    case "disabled":
                        entries.Add(Entry("disabled", e, Scalar(e, e.Value.Trim())));
                        break;
                    case "concurrentBuild":
                        entries.Add(Entry("concurrent", e, Scalar(e, e.Value.Trim())));
                        break;
                    case "quietPeriod":
                        entries.Add(Entry("quietPeriod", e, Scalar(e, e.Value.Trim())));
                        break;
                    case "authToken":
                        // Read by the caller: its forms are not the validator's business.
                        break;
                    case "properties":
                        Properties(e, entries);
                        break;
                    case "scm":
                        Scm(e, entries);
                        break;
                    case "triggers":
                        Triggers(e, entries);
                        break;
                    case "builders":
                        Builders(e, entries);
                        break;
                    default:
                        Keep(e);
                        break;
                }
            }
            return new ConfigMapping(At(root), entries);
        }

        void Properties(XElement properties, List<ConfigEntry> entries)
        {
            foreach (var property in properties.Elements())
            {
                if (property.Name.LocalName != ParametersProperty)
                {
                    Kept.Add(PathOf(property));
                    continue;
                }
                var list = property.Element("parameterDefinitions") ?? property;
                var items = new List<ConfigNode>();
                foreach (var definition in list.Elements())
                {
                    if (!ParameterElements.TryGetValue(definition.Name.LocalName, out var type))
                    {
                        Fail(definition, $"unknown parameter definition '{definition.Name.LocalName}' ({string.Join(", ", ParameterElements.Keys)})");
                        continue;
                    }
                    items.Add(Parameter(definition, type));
                }
                entries.Add(Entry("parameters", list, new ConfigList(At(list), items)));
            }
        }

        ConfigNode Parameter(XElement definition, string type)
        {
            var fields = new List<ConfigEntry> { Entry("type", definition, Scalar(definition, type)) };
            foreach (var e in definition.Elements())
            {
                switch (e.Name.LocalName)
                {
                    case "name":
                        fields.Add(Entry("name", e, Scalar(e, e.Value)));
                        break;
                    case "description":
                        fields.Add(Entry("description", e, Scalar(e, e.Value)));
                        break;
                    case "trim" when type == "string":
                        fields.Add(Entry("trim", e, Scalar(e, e.Value.Trim())));
                        break;
                    case "defaultValue":
                        if (type == "password" && PasswordDefault(e) is { } secret)
                            fields.Add(Entry("default", e, Scalar(e, secret)));
                        else if (type != "password")
                            fields.Add(Entry("default", e, Scalar(e, type == "boolean" ? e.Value.Trim() : e.Value)));
                        break;
                    case "choices" when type == "choice":
                        var strings = e.Descendants("string").Select(s => (ConfigNode)Scalar(s, s.Value)).ToList();
                        fields.Add(Entry("choices", e, new ConfigList(At(e), strings)));
                        break;
                    default:
                        Kept.Add(PathOf(e));
                        break;
                }
            }
            return new ConfigMapping(At(definition), fields);
        }

        string? PasswordDefault(XElement e)
        {
            var value = e.Value;
            if (value.StartsWith(SecretPrefix, StringComparison.Ordinal))
            {
                if (decrypt(value[SecretPrefix.Length..]) is { } opened)
                    return opened;
                Fail(e, "this {valet-secret} value was sealed by another Valet installation; set the default again in clear");
                return null;
            }
            if (value.StartsWith("{AQAA", StringComparison.Ordinal))
            {
                Kept.Add(PathOf(e) + " (Jenkins-encrypted default dropped)");
                return null;
            }
            return value;
        }

        void Scm(XElement scm, List<ConfigEntry> entries)
        {
            var type = (string?)scm.Attribute("class");
            if (type == NullScmClass)
                return;
            if (type != GitScmClass)
            {
                Kept.Add(PathOf(scm));
                return;
            }
            var remote = scm.Element("userRemoteConfigs")?.Elements().FirstOrDefault(r => r.Element("url") is not null);
            var url = remote?.Element("url");
            var credentials = remote?.Element("credentialsId") is { } id && id.Value.Trim().Length > 0 ? id : null;
            var branch = scm.Element("branches")?.Elements().Select(b => b.Element("name")).FirstOrDefault(n => n is not null);
            foreach (var e in scm.Elements().Where(e => e.Name.LocalName is not ("userRemoteConfigs" or "branches") && !GitBoilerplate.Contains(e.Name.LocalName)))
                Kept.Add(PathOf(e));
            var git = new List<ConfigEntry>();
            if (url is not null)
                git.Add(Entry("url", url, Scalar(url, url.Value.Trim())));
            if (branch is not null)
            {
                var name = branch.Value.Trim();
                git.Add(Entry("branch", branch, Scalar(branch, name.StartsWith("*/", StringComparison.Ordinal) ? name[2..] : name)));
            }
            if (credentials is not null)
                git.Add(Entry("credentials", credentials, Scalar(credentials, credentials.Value.Trim())));
            entries.Add(Entry("scm", scm, new ConfigMapping(At(scm), [Entry("git", scm, new ConfigMapping(At(scm), git))])));
        }

        void Triggers(XElement triggers, List<ConfigEntry> entries)
        {
            var found = new List<ConfigEntry>();
            foreach (var trigger in triggers.Elements())
            {
                var key = trigger.Name.LocalName switch
                {
                    "hudson.triggers.SCMTrigger" => "pollScm",
                    "hudson.triggers.TimerTrigger" => "cron",
                    _ => null,
                };
                if (key is null)
                {
                    Kept.Add(PathOf(trigger));
                    continue;
                }
                var spec = trigger.Element("spec");
                found.Add(Entry(key, spec ?? trigger, Scalar(spec ?? trigger, spec?.Value ?? "")));
            }
            if (found.Count > 0)
                entries.Add(Entry("triggers", triggers, new ConfigMapping(At(triggers), found)));
        }

        void Builders(XElement builders, List<ConfigEntry> entries)
        {
            var steps = new List<ConfigNode>();
            foreach (var builder in builders.Elements())
            {
                if (builder.Name.LocalName != "hudson.tasks.Shell")
                {
                    Kept.Add(PathOf(builder));
                    UnknownBuilders.Add(builder.Name.LocalName);
                    continue;
                }
                foreach (var e in builder.Elements().Where(e => e.Name.LocalName != "command"))
                    Kept.Add(PathOf(e));
                var command = builder.Element("command");
                steps.Add(new ConfigMapping(At(builder), [Entry("sh", command ?? builder, Scalar(command ?? builder, command?.Value ?? ""))]));
            }
            entries.Add(Entry("steps", builders, new ConfigList(At(builders), steps)));
        }
    }

    /// <summary>
    /// The document to store for a posted config.xml: the clear `authToken` replaced by its digest and
    /// clear password defaults sealed, so no stored document holds a secret.
    /// </summary>
    public static XDocument ForStorage(XDocument posted, string? tokenDigestHex, Func<string, string> encrypt)
    {
        var document = new XDocument(posted);
        var root = document.Root!;
        if (root.Element("authToken") is { } token)
        {
            if (tokenDigestHex is null)
                token.Remove();
            else
                token.Value = HmacPrefix + tokenDigestHex;
        }
        foreach (var definition in root.Descendants("hudson.model.PasswordParameterDefinition"))
        {
            if (definition.Element("defaultValue") is { } value && value.Value.Length > 0 && !value.Value.StartsWith(SecretPrefix, StringComparison.Ordinal))
                value.Value = SecretPrefix + encrypt(value.Value);
        }
        return document;
    }

    /// <summary>
    /// config.xml for an item: the stored document with each section Valet uses brought up to date with the
    /// definition (a section whose meaning did not change is left exactly as stored), or a fresh document.
    /// </summary>
    public static string Write(ItemDefinition definition, string? storedXml, string? tokenDigestHex, Func<string, string> encrypt, Func<string, string?> decrypt)
    {
        XDocument? stored = null;
        ItemDefinition? before = null;
        if (storedXml is not null && Read("stored", storedXml, decrypt) is ({ } item, _) && ConfigValidator.ValidateItem(item.Root, "stored").Entry is { } entry)
        {
            stored = item.Document;
            before = entry.Definition;
        }
        var document = stored ?? Fresh(definition);
        var root = document.Root!;
        if (definition is JobDefinition job)
        {
            var old = before as JobDefinition;
            string Clear(string s) => s;
            string Sealed(string s) => SecretPrefix + encrypt(s);
            Section(root, "description", d => new XElement("description", d.Description), job, old);
            Section(root, "disabled", d => new XElement("disabled", Bool(((JobDefinition)d).Disabled)), job, old);
            Section(root, "concurrentBuild", d => new XElement("concurrentBuild", Bool(((JobDefinition)d).Concurrent)), job, old);
            Section(root, "quietPeriod", d => ((JobDefinition)d).QuietPeriod is { } q ? new XElement("quietPeriod", q) : null, job, old);
            Section(root, "scm", d => Scm(((JobDefinition)d).Scm), job, old);
            Section(root, "triggers", d => Triggers(((JobDefinition)d).Triggers), job, old);
            if (job is FreestyleJob freestyle)
                Section(root, "builders", d => Builders((d as FreestyleJob)?.Steps ?? []), freestyle, old);
            ParametersSection(root, job, old, Clear, Sealed);
            var token = root.Element("authToken");
            if (tokenDigestHex is null)
                token?.Remove();
            else if (token is null)
                Insert(root, new XElement("authToken", HmacPrefix + tokenDigestHex));
            else if (token.Value != HmacPrefix + tokenDigestHex)
                token.Value = HmacPrefix + tokenDigestHex;
        }
        else
        {
            Section(root, "description", d => new XElement("description", d.Description), definition, before);
        }
        // A git URL's password shows as ****; posted back unchanged, it keeps the stored one.
        foreach (var url in root.Elements("scm").Elements("userRemoteConfigs").Descendants("url"))
            url.Value = GitUrl.Masked(url.Value);
        return Serialize(document);
    }

    static string Bool(bool value) => value ? "true" : "false";

    static XDocument Fresh(ItemDefinition definition) => definition is Folder
        ? new XDocument(new XElement(FolderClass, new XAttribute("plugin", "cloudbees-folder"),
            new XElement("actions"), new XElement("description", definition.Description), new XElement("properties")))
        : new XDocument(new XElement("project",
            new XElement("actions"), new XElement("description"), new XElement("keepDependencies", "false"), new XElement("properties"),
            new XElement("scm", new XAttribute("class", NullScmClass)), new XElement("canRoam", "true"), new XElement("disabled", "false"),
            new XElement("blockBuildWhenDownstreamBuilding", "false"), new XElement("blockBuildWhenUpstreamBuilding", "false"),
            new XElement("triggers"), new XElement("concurrentBuild", "false"), new XElement("builders"), new XElement("publishers"), new XElement("buildWrappers")));

    /// <summary>Replaces the element when the definition's meaning differs from what the stored document says.</summary>
    static void Section(XElement root, string name, Func<ItemDefinition, XElement?> render, ItemDefinition now, ItemDefinition? before)
    {
        var current = render(now);
        var existing = root.Element(name);
        if (before is not null && existing is not null && XNode.DeepEquals(render(before), current))
            return;
        if (existing is not null && current is not null)
            existing.ReplaceWith(current);
        else if (existing is not null)
            existing.Remove();
        else if (current is not null)
            Insert(root, current);
    }

    static readonly string[] Order =
        ["actions", "description", "keepDependencies", "properties", "scm", "quietPeriod", "canRoam", "disabled", "blockBuildWhenDownstreamBuilding",
            "blockBuildWhenUpstreamBuilding", "authToken", "triggers", "concurrentBuild", "builders", "publishers", "buildWrappers"];

    /// <summary>Inserts after the last element Jenkins writes before it, else first.</summary>
    static void Insert(XElement root, XElement element)
    {
        var rank = Array.IndexOf(Order, element.Name.LocalName);
        var after = root.Elements().LastOrDefault(e => Array.IndexOf(Order, e.Name.LocalName) is var r && r >= 0 && r < rank);
        if (after is not null)
            after.AddAfterSelf(element);
        else
            root.AddFirst(element);
    }

    static void ParametersSection(XElement root, JobDefinition job, JobDefinition? old, Func<string, string> clear, Func<string, string> seal)
    {
        var properties = root.Element("properties");
        var existing = properties?.Element(ParametersProperty);
        if (old is not null && existing is not null && XNode.DeepEquals(Parameters(old.Parameters, clear), Parameters(job.Parameters, clear)))
            return;
        if (old is not null && existing is null && job.Parameters.Count == 0 && old.Parameters.Count == 0)
            return;
        var current = Parameters(job.Parameters, seal);
        if (existing is not null && current is not null)
        {
            existing.ReplaceWith(current);
            return;
        }
        existing?.Remove();
        if (current is null)
            return;
        if (properties is null)
        {
            properties = new XElement("properties");
            Insert(root, properties);
        }
        properties.Add(current);
    }

    static XElement? Parameters(IReadOnlyList<ParameterDefinition> parameters, Func<string, string> secret) =>
        parameters.Count == 0 ? null : new XElement(ParametersProperty, new XElement("parameterDefinitions", parameters.Select(p => Parameter(p, secret))));

    static XElement Parameter(ParameterDefinition p, Func<string, string> secret)
    {
        var type = ParameterElements.First(kv => kv.Value == p.Type.ToString().ToLowerInvariant()).Key;
        var element = new XElement(type, new XElement("name", p.Name), new XElement("description", p.Description));
        switch (p.Type)
        {
            case ParameterType.Choice:
                element.Add(new XElement("choices", new XAttribute("class", "java.util.Arrays$ArrayList"),
                    new XElement("a", new XAttribute("class", "string-array"), p.Choices.Select(c => new XElement("string", c)))));
                break;
            case ParameterType.Password:
                element.Add(new XElement("defaultValue", string.IsNullOrEmpty(p.Default) ? "" : secret(p.Default)));
                break;
            case ParameterType.Boolean:
                element.Add(new XElement("defaultValue", p.DefaultValue));
                break;
            default:
                element.Add(new XElement("defaultValue", p.Default ?? ""));
                break;
        }
        if (p.Type == ParameterType.String)
            element.Add(new XElement("trim", Bool(p.Trim)));
        return element;
    }

    static XElement Scm(GitScm? scm) => scm is null
        ? new XElement("scm", new XAttribute("class", NullScmClass))
        : new XElement("scm", new XAttribute("class", GitScmClass),
            new XElement("configVersion", "2"),
            new XElement("userRemoteConfigs", new XElement("hudson.plugins.git.UserRemoteConfig", new XElement("url", scm.Url),
                scm.Credentials is { } credentials ? new XElement("credentialsId", credentials) : null)),
            new XElement("branches", new XElement("hudson.plugins.git.BranchSpec", new XElement("name", "*/" + scm.Branch))));

    static XElement Triggers(IReadOnlyList<TriggerDefinition> triggers) => new("triggers", triggers.Select(t => t switch
    {
        PollScmTrigger p => new XElement("hudson.triggers.SCMTrigger", new XElement("spec", p.Spec)),
        CronTrigger c => new XElement("hudson.triggers.TimerTrigger", new XElement("spec", c.Spec)),
        _ => null,
    }));

    static XElement Builders(IReadOnlyList<string> steps) =>
        new("builders", steps.Select(s => new XElement("hudson.tasks.Shell", new XElement("command", s))));

    public static string Serialize(XDocument document)
    {
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", NewLineChars = "\n", Encoding = new UTF8Encoding(false) };
        // Whitespace around the root is not part of the item; dropping it keeps round trips byte-stable.
        var copy = new XDocument(document);
        copy.Nodes().OfType<XText>().Remove();
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, settings))
            copy.Save(writer);
        return Encoding.UTF8.GetString(stream.ToArray()).TrimEnd() + "\n";
    }
}
