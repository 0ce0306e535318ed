using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using System.Xml.XPath;

namespace Valet.Server.RemoteApi;

/// <summary>
/// Writes an <see cref="ApiObject"/> as Jenkins' <c>api/json</c> and <c>api/xml</c> do
/// (spec/remote-api.md §2.2): <c>depth=</c> and visibility, or <c>tree=</c>; <c>xpath=</c> over the XML.
/// </summary>
public static class ApiRenderer
{
    const int MaxDepth = 10;

    // Jenkins escapes only what JSON requires: names like "dir » x" and "a+b" stay readable.
    static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly JsonWriterOptions Pretty = Compact with { Indented = true };

    /// <returns>null, or the reason for a 400.</returns>
    public static string? TryParse(string? depth, string? tree, out RenderOptions options)
    {
        options = RenderOptions.Default;
        var level = 0;
        if (depth is not null && !(int.TryParse(depth, NumberStyles.None, CultureInfo.InvariantCulture, out level) && level <= MaxDepth))
            return $"depth must be 0 to {MaxDepth}, not '{depth}'";
        IReadOnlyList<TreeNode>? nodes = null;
        if (tree is not null)
        {
            if (tree.Length > MaxTreeLength)
                return $"tree is longer than {MaxTreeLength} characters";
            try
            {
                nodes = TreeParser.Parse(tree, MaxTreeNesting);
            }
            catch (FormatException e)
            {
                return $"malformed tree '{tree}': {e.Message}";
            }
        }
        options = new(level, nodes);
        return null;
    }

    public static string ToJson(ApiObject root, RenderOptions options, bool pretty)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, pretty ? Pretty : Compact))
            WriteObject(writer, root, Scope.Of(options));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static XDocument ToXml(ApiObject root, RenderOptions options) =>
        new(ToElement(ElementName(root.Class), root, Scope.Of(options)));

    /// <summary>limits.md §1: longer expressions are refused before they are compiled.</summary>
    public const int MaxXPathLength = 1024;

    /// <summary>limits.md §1: node visits one evaluation may make.</summary>
    public const long XPathVisits = 1_000_000;

    /// <summary>limits.md §1: the longest <c>tree=</c> and its deepest nesting of <c>[…]</c>.</summary>
    public const int MaxTreeLength = 1024, MaxTreeNesting = 10;

    /// <param name="wrapper"><c>wrapper=</c>: the element name that every result is put under.</param>
    /// <param name="ct">The request's abort: a client that went away stops the evaluation.</param>
    public static XPathResult EvaluateXPath(XDocument doc, string xpath, string? wrapper, CancellationToken ct = default, long visits = XPathVisits)
    {
        if (xpath.Length > MaxXPathLength)
            return new XPathResult.TooExpensive($"xpath is longer than {MaxXPathLength} characters");
        object result;
        List<XObject>? nodes = null;
        try
        {
            var navigator = new BudgetedNavigator(doc.CreateNavigator(), visits, ct);
            result = navigator.Evaluate(XPathExpression.Compile(xpath));
            if (result is XPathNodeIterator iterator)
            {
                nodes = [];
                while (iterator.MoveNext())
                    nodes.Add(ToXObject(iterator.Current!));
            }
        }
        catch (XPathException e)
        {
            return new XPathResult.BadRequest($"bad xpath '{xpath}': {e.Message}");
        }
        catch (XPathBudgetExceededException)
        {
            return new XPathResult.TooExpensive($"xpath needs more than {visits} node visits");
        }
        if (wrapper is not null)
            return Wrap(wrapper, nodes, result);
        return nodes switch
        {
            null => new XPathResult.Text(Scalar(result)),
            [] => new XPathResult.NotFound(),
            [var node] => Single(node),
            _ => new XPathResult.BadRequest(
                $"XPath \"{xpath}\" matched {nodes.Count} nodes. Create XPath that only matches one, or use the \"wrapper\" query parameter to wrap them all under a root element."),
        };
    }

    // Adjacent text nodes read as one in XPath, so a text result takes the navigator's merged value.
    static XObject ToXObject(XPathNavigator node) => node.NodeType switch
    {
        // A namespace node's object is an `xmlns` attribute, which no element may be named after.
        XPathNodeType.Text or XPathNodeType.Whitespace or XPathNodeType.SignificantWhitespace or XPathNodeType.Namespace => new XText(node.Value),
        _ => node.UnderlyingObject as XObject ?? new XText(node.Value),
    };

    static XPathResult Single(XObject node) => node switch
    {
        XElement e => new XPathResult.Xml(e),
        XDocument d => new XPathResult.Xml(d.Root!),
        XAttribute a => new XPathResult.Text(a.Value),
        XText t => new XPathResult.Text(t.Value),
        _ => new XPathResult.Text(node.ToString()!),
    };

    static XPathResult Wrap(string wrapper, List<XObject>? nodes, object result)
    {
        try
        {
            XmlConvert.VerifyNCName(wrapper);
        }
        catch (Exception e) when (e is XmlException or ArgumentException)
        {
            return new XPathResult.BadRequest($"wrapper '{wrapper}' is not an XML name");
        }
        var element = new XElement(wrapper);
        if (nodes is null)
            // A string the xpath wrote itself (a literal, concat()) may hold what XML cannot.
            element.Add(XmlSafe(Scalar(result)));
        else
            // An attribute becomes an element of its name: several same-named attributes can't share one element.
            foreach (var node in nodes)
                element.Add(node switch { XDocument d => d.Root, XAttribute a => new XElement(a.Name, a.Value), _ => node });
        return new XPathResult.Xml(element);
    }

    static string Scalar(object result) => result switch
    {
        bool b => b ? "true" : "false",
        double d => Number(d),
        _ => (string)result,
    };

    // XPath 1.0's string(): the shortest digits that round-trip, never an exponent, integers without
    // ".0" (.NET's own string() writes 1E+21, Jaxen's 1.0E21).
    static string Number(double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d))
            return double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
        var r = (d == 0 ? 0 : d).ToString("R", CultureInfo.InvariantCulture);
        if (r.IndexOf('E') is not (> 0 and var e))
            return r;
        var sign = d < 0 ? "-" : "";
        var mantissa = r[sign.Length..e];
        var digits = mantissa.Replace(".", "", StringComparison.Ordinal);
        var point = (mantissa.IndexOf('.') is >= 0 and var dot ? dot : mantissa.Length) + int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        return sign + (point <= 0 ? "0." + new string('0', -point) + digits
            : point >= digits.Length ? digits + new string('0', point - digits.Length)
            : digits[..point] + "." + digits[point..]);
    }

    /// <summary>
    /// What to write of one object: by level (properties of visibility ≥ <see cref="Level"/>), or,
    /// when <see cref="Tree"/> is set, exactly the properties it names.
    /// </summary>
    readonly record struct Scope(int Level, IReadOnlyList<TreeNode>? Tree)
    {
        public static Scope Of(RenderOptions options) => new(1 - options.Depth, options.Tree);

        public IEnumerable<(string Name, object? Value, Scope Inner)> Select(ApiObject obj)
        {
            foreach (var p in obj.Properties)
            {
                if (Tree is null)
                {
                    if (p.Visibility >= Level)
                        yield return (p.Name, p.Value, new(p.Inline ? Level : Level + 1, null));
                }
                else if (Tree.LastOrDefault(n => n.Name == p.Name) is { } node)
                {
                    var value = p.Value is IEnumerable items and not string ? Slice(items, node) : p.Value;
                    yield return (p.Name, value, new(0, node.Children ?? []));
                }
            }
        }

        static List<object?> Slice(IEnumerable items, TreeNode node)
        {
            var sliced = items.Cast<object?>().Skip(node.Start);
            return (node.End is { } end ? sliced.Take(end - node.Start) : sliced).ToList();
        }
    }

    static void WriteObject(Utf8JsonWriter writer, ApiObject obj, Scope scope)
    {
        writer.WriteStartObject();
        writer.WriteString("_class", obj.Class);
        foreach (var (name, value, inner) in scope.Select(obj))
        {
            writer.WritePropertyName(name);
            WriteValue(writer, value, inner);
        }
        writer.WriteEndObject();
    }

    static void WriteValue(Utf8JsonWriter writer, object? value, Scope scope)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            case double d: writer.WriteNumberValue(d); break;
            case ApiObject o: WriteObject(writer, o, scope); break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                    WriteValue(writer, item, scope);
                writer.WriteEndArray();
                break;
            default: throw new ArgumentException($"{value.GetType()} is not an API value", nameof(value));
        }
    }

    static XElement ToElement(string name, ApiObject obj, Scope scope)
    {
        var element = new XElement(name, new XAttribute("_class", obj.Class));
        foreach (var (property, value, inner) in scope.Select(obj))
            AddXml(element, property, value, inner);
        return element;
    }

    // Nulls are absent; an array repeats its items under the singular name, as Stapler's XMLDataWriter.
    static void AddXml(XElement parent, string name, object? value, Scope scope)
    {
        switch (value)
        {
            case null: break;
            case string s: parent.Add(new XElement(name, XmlSafe(s))); break;
            case bool b: parent.Add(new XElement(name, b ? "true" : "false")); break;
            case int or long or double: parent.Add(new XElement(name, Convert.ToString(value, CultureInfo.InvariantCulture))); break;
            case ApiObject o: parent.Add(ToElement(name, o, scope)); break;
            case IEnumerable items:
                var singular = Singular(name);
                foreach (var item in items)
                    AddXml(parent, singular, item, scope);
                break;
            default: throw new ArgumentException($"{value.GetType()} is not an API value", nameof(value));
        }
    }

    /// <summary><c>hudson.model.Queue$WaitingItem</c> → <c>waitingItem</c> (java.beans.Introspector.decapitalize).</summary>
    static string ElementName(string @class)
    {
        var simple = @class[(@class.LastIndexOfAny(['.', '$']) + 1)..];
        return simple.Length > 1 && char.IsUpper(simple[0]) && char.IsUpper(simple[1])
            ? simple
            : string.Concat(simple[..1].ToLowerInvariant(), simple.AsSpan(1));
    }

    /// <summary><c>jobs</c> → <c>job</c>, <c>properties</c> → <c>property</c>; other names stay.</summary>
    static string Singular(string name) =>
        name.EndsWith("ies", StringComparison.Ordinal) ? name[..^3] + "y"
        : name.EndsWith('s') ? name[..^1]
        : name;

    // Control characters are fine in JSON strings but not in XML 1.0: drop them rather than fail the answer.
    static string XmlSafe(string s)
    {
        StringBuilder? kept = null;
        for (var i = 0; i < s.Length; i++)
        {
            if (XmlConvert.IsXmlChar(s[i]))
                kept?.Append(s[i]);
            else if (i + 1 < s.Length && XmlConvert.IsXmlSurrogatePair(s[i + 1], s[i]))
            {
                // Not inside the call: `kept?.` skips its arguments while nothing was dropped yet.
                kept?.Append(s, i, 2);
                i++;
            }
            else
                kept ??= new StringBuilder(s, 0, i, s.Length);
        }
        return kept?.ToString() ?? s;
    }
}
