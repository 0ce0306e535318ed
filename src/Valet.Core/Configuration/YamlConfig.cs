using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Valet.Core.Configuration;

/// <summary>
/// The YAML adapter: one document read with YamlDotNet into <see cref="ConfigNode"/>s whose paths read
/// <c>jobs[0].parameters[1].type</c>. Aliases are expanded; each copy keeps the anchor's line and gets its own path.
/// </summary>
public static class YamlConfig
{
    // Aliases can multiply a small file into a huge tree; no real configuration comes near this.
    const int MaxValues = 1_000_000;

    public static ConfigDocument Read(string source, string text)
    {
        if (AliasBeforeItsAnchor(source, text) is { } refused)
            return refused;
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            return Failed(source, e.Start.Line, e.Message);
        }
        catch (ArgumentException)
        {
            // YamlDotNet's node builder throws this for events it has no node for (a tagged key without a value).
            return Failed(source, parser.Current?.Start.Line ?? 1, "this YAML construct is not supported here");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (not a YamlException) on some unterminated flow collections.
            return Failed(source, parser.Current?.End.Line ?? 1, "unterminated [ … ] or { … }");
        }

        if (stream.Documents.Count > 1)
            return Failed(source, stream.Documents[1].RootNode.Start.Line, "the file must hold one YAML document");
        if (stream.Documents.Count == 0)
            return new(null, []);
        var converter = new Converter(source);
        var root = converter.Convert(stream.Documents[0].RootNode, "");
        if (converter.Error is { } error)
            return new(null, [error]);
        return new(root is ConfigScalar { IsNull: true } ? null : root, []);
    }

    /// <summary>
    /// An alias must follow its anchor's whole node (YAML 1.2, 3.2.2.2). YamlDotNet's node builder keeps
    /// an alias to a node not complete yet (later, or one that contains the alias) as a placeholder, and
    /// two such placeholders as keys of one mapping overflow the stack when it compares them: so they are
    /// refused from the events, before any node is built. Other errors are left to the load to report.
    /// </summary>
    static ConfigDocument? AliasBeforeItsAnchor(string source, string text)
    {
        var parser = new Parser(new StringReader(text));
        var complete = new HashSet<AnchorName>();
        var open = new Stack<AnchorName>();
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case DocumentStart:
                        complete.Clear();
                        break;
                    case AnchorAlias alias when !complete.Contains(alias.Value):
                        return Failed(source, alias.Start.Line, open.Contains(alias.Value)
                            ? $"the alias *{alias.Value} stands inside the value of &{alias.Value}, which cannot contain itself"
                            : $"the alias *{alias.Value} comes before its anchor &{alias.Value}, or there is none");
                    case SequenceStart or MappingStart:
                        open.Push(((NodeEvent)parser.Current).Anchor);
                        break;
                    case SequenceEnd or MappingEnd:
                        if (open.Pop() is { IsEmpty: false } anchor)
                            complete.Add(anchor);
                        break;
                    case Scalar { Anchor.IsEmpty: false } scalar:
                        complete.Add(scalar.Anchor);
                        break;
                }
            }
        }
        catch (Exception e) when (e is YamlException or ArgumentException or InvalidOperationException)
        {
        }
        return null;
    }

    static ConfigDocument Failed(string source, long line, string message) => new(null, [new ConfigError(new SourceLocation(source, line, ""), message)]);

    static bool IsNull(YamlScalarNode node) =>
        node is { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    sealed class Converter(string source)
    {
        int count;

        public ConfigError? Error { get; private set; }

        public ConfigNode Convert(YamlNode node, string path)
        {
            var at = new SourceLocation(source, node.Start.Line, path);
            if (Error is not null)
                return new ConfigScalar(at, "", IsNull: true);
            if (++count > MaxValues)
                return Stop(at, $"the file expands to more than {MaxValues} values (through aliases)");
            return node switch
            {
                YamlMappingNode map => new ConfigMapping(at, [.. map.Children.Select(c => Entry(c.Key, c.Value, path))]),
                YamlSequenceNode list => new ConfigList(at, [.. list.Children.Select((item, i) => Convert(item, $"{path}[{i}]"))]),
                YamlScalarNode scalar => new ConfigScalar(at, scalar.Value ?? "", IsNull(scalar)),
                _ => Stop(at, "unsupported YAML node"),
            };
        }

        ConfigEntry Entry(YamlNode key, YamlNode value, string path)
        {
            var name = key is YamlScalarNode { Value: { } text } ? text : null;
            var valuePath = name is null ? path : path.Length == 0 ? name : $"{path}.{name}";
            return new ConfigEntry(name, new SourceLocation(source, key.Start.Line, valuePath), Convert(value, valuePath));
        }

        ConfigScalar Stop(SourceLocation at, string message)
        {
            Error ??= new ConfigError(at, message);
            return new ConfigScalar(at, "", IsNull: true);
        }
    }
}
