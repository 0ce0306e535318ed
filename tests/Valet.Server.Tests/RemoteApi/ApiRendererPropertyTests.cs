using System.Xml.Linq;
using CsCheck;
using Valet.Core.Tests;
using Valet.Server.RemoteApi;
using Xunit;

namespace Valet.Server.Tests.RemoteApi;

/// <summary>
/// <c>tree=</c>, <c>depth=</c>, <c>xpath=</c> and the XML writer under arbitrary input: a bad query is a
/// reason for a 400 (the tree parser's FormatException caught inside), never an escaping exception.
/// </summary>
public sealed class ApiRendererPropertyTests
{
    static readonly Gen<string> Trees = HostileText.From(40, "jobs", "name", "builds", "number", "a", "[", "]", "{", "}", ",", " ", "0", "1", "9",
        "2147483647", "2147483646", "99999999999");

    static ApiObject Job(string text) => new ApiObject("hudson.model.FreeStyleProject")
        .Add("name", text, visibility: 999)
        .Add("description", text)
        .Add("builds", new[] { 3, 2, 1 }.Select(n => new ApiObject("hudson.model.FreeStyleBuild").Add("number", n, visibility: 2).Add("result", text)).ToList());

    [Fact]
    public void Any_tree_and_depth_parse_or_give_a_reason_and_a_parsed_tree_renders()
    {
        var depths = Gen.Frequency((3, Gen.Const((string?)null)), (1, HostileText.From(3, "0", "1", "10", "11", "-1", " ").Select(s => (string?)s)));
        Gen.Select(depths, Trees).Sample((depth, tree) =>
        {
            if (ApiRenderer.TryParse(depth, tree, out var options) is { } reason)
            {
                Assert.False(string.IsNullOrEmpty(reason));
                return;
            }
            Assert.True(tree.Length <= ApiRenderer.MaxTreeLength);
            Assert.True(Nesting(options.Tree!) <= ApiRenderer.MaxTreeNesting);
            Assert.InRange(options.Depth, 0, 10);
            _ = ApiRenderer.ToJson(Job("x"), options, pretty: true);
            _ = ApiRenderer.ToXml(Job("x"), options).ToString();
        }, iter: 20_000);
    }

    [Fact]
    public void A_written_tree_parses_back_to_the_same_selection()
    {
        var names = Gen.OneOf("jobs", "name", "builds", "number", "a_b", "x.y", "ä");
        var ranges = Gen.OneOf("", "{0}", "{1,}", "{,2}", "{1,3}");
        var leaf = Gen.Select(names, ranges, (n, r) => n + r);
        var inner = Gen.Select(names, leaf.Array[1, 3], ranges, (n, children, r) => $"{n}[{string.Join(',', children)}]{r}");
        var outer = Gen.Select(names, Gen.Frequency((1, leaf), (1, inner)).Array[1, 3], (n, children) => $"{n}[{string.Join(',', children)}]");
        Gen.Frequency((1, leaf), (1, inner), (1, outer)).Array[1, 4].Select(t => string.Join(',', t)).Sample(tree =>
        {
            Assert.Null(ApiRenderer.TryParse(null, tree, out var options));
            Assert.Equal(tree, Write(options.Tree!));
            var spaced = tree.Replace(",", " , ").Replace("[", " [ ").Replace("]", " ] ");
            Assert.Null(ApiRenderer.TryParse(null, spaced, out var again));
            Assert.Equal(tree, Write(again.Tree!));
        }, iter: 5_000);
    }

    [Fact]
    public void Any_text_in_values_and_any_xpath_give_an_answer_that_serialises()
    {
        var xpaths = HostileText.From(12, "/", "//", "*", "job", "name", "description", "build", "@_class", "[", "]", "(", ")", "1", "last()", "count(",
            "text()", "node()", "..", "|", "namespace::*", "id('x')", "string(", "'", "=", " ", "and ", "position()");
        var values = HostileText.From(10, "a", " ", "<", "&", "\0", "\uD800", "\U0001F600");
        var wrappers = Gen.OneOf<string?>(null, null, "w", "", "a b", "1", "x:y");
        Gen.Select(values, xpaths, wrappers).Sample((value, xpath, wrapper) =>
        {
            var doc = ApiRenderer.ToXml(Job(value), RenderOptions.Default);
            Assert.NotEmpty(doc.Root!.ToString(SaveOptions.DisableFormatting));
            var result = ApiRenderer.EvaluateXPath(doc, xpath, wrapper, visits: 10_000);
            if (result is XPathResult.Xml xml)
                Assert.NotEmpty(xml.Element.ToString(SaveOptions.DisableFormatting));
        }, iter: 10_000);
    }

    static int Nesting(IReadOnlyList<TreeNode> nodes) => nodes.Count == 0 ? 0 : nodes.Max(n => n.Children is null ? 0 : 1 + Nesting(n.Children));

    static string Write(IReadOnlyList<TreeNode> nodes) => string.Join(',', nodes.Select(n =>
        n.Name + (n.Children is null ? "" : $"[{Write(n.Children)}]") + (n.Start, n.End) switch
        {
            (0, null) => "",
            (var s, var e) when e == s + 1 => $"{{{s}}}",
            (var s, null) => $"{{{s},}}",
            (0, var e) => $"{{,{e}}}",
            (var s, var e) => $"{{{s},{e}}}",
        }));
}
