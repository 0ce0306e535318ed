using System.Xml.Linq;
using Valet.Server.RemoteApi;
using Xunit;

namespace Valet.Server.Tests.RemoteApi;

public sealed class ApiRendererTests
{
    const string Root = "https://ci.example.com/";

    static ApiObject Build(int number) => new ApiObject("hudson.model.FreeStyleBuild")
        .Add("number", number, visibility: 2)
        .Add("url", $"{Root}job/p/{number}/", visibility: 2)
        .Add("result", "SUCCESS");

    static ApiObject Job(string name, string color, params int[] builds) => new ApiObject("hudson.model.FreeStyleProject")
        .Add("name", name, visibility: 999)
        .Add("url", $"{Root}job/{name}/", visibility: 999)
        .Add("color", color, visibility: 2)
        .Add("description", null)
        .Add("builds", builds.Select(Build).ToList())
        .Add("allBuilds", builds.Select(Build).ToList(), ApiObject.TreeOnly);

    static ApiObject Hudson() => new ApiObject("hudson.model.Hudson")
        .Add("jobs", new[] { Job("p", "blue", 3, 2, 1), Job("q", "notbuilt") })
        .Add("description", null)
        .Add("numExecutors", 2)
        .Add("useCrumbs", true);

    static string Json(ApiObject root, string? depth = null, string? tree = null)
    {
        Assert.Null(ApiRenderer.TryParse(depth, tree, out var options));
        return ApiRenderer.ToJson(root, options, pretty: false);
    }

    [Fact]
    public void Depth_0_shows_nested_jobs_by_their_visibility_2_properties()
    {
        Assert.Equal(
            """{"_class":"hudson.model.Hudson","jobs":[""" +
            """{"_class":"hudson.model.FreeStyleProject","name":"p","url":"https://ci.example.com/job/p/","color":"blue"},""" +
            """{"_class":"hudson.model.FreeStyleProject","name":"q","url":"https://ci.example.com/job/q/","color":"notbuilt"}]""" +
            ""","description":null,"numExecutors":2,"useCrumbs":true}""",
            Json(Hudson()));
    }

    [Fact]
    public void Depth_0_job_shows_builds_as_class_number_and_url_and_never_tree_only_properties()
    {
        Assert.Equal(
            """{"_class":"hudson.model.FreeStyleProject","name":"q","url":"https://ci.example.com/job/q/","color":"notbuilt","description":null,"builds":[]}""",
            Json(Job("q", "notbuilt"), depth: "10"));
        Assert.Equal(
            """{"_class":"hudson.model.FreeStyleProject","name":"p","url":"https://ci.example.com/job/p/","color":"blue","description":null,"builds":[""" +
            """{"_class":"hudson.model.FreeStyleBuild","number":2,"url":"https://ci.example.com/job/p/2/"},""" +
            """{"_class":"hudson.model.FreeStyleBuild","number":1,"url":"https://ci.example.com/job/p/1/"}]}""",
            Json(Job("p", "blue", 2, 1), depth: "0"));
    }

    [Fact]
    public void Depth_1_opens_one_more_level()
    {
        Assert.Equal(
            """{"_class":"hudson.model.Hudson","jobs":[""" +
            """{"_class":"hudson.model.FreeStyleProject","name":"p","url":"https://ci.example.com/job/p/","color":"blue","description":null,"builds":[""" +
            """{"_class":"hudson.model.FreeStyleBuild","number":3,"url":"https://ci.example.com/job/p/3/"},""" +
            """{"_class":"hudson.model.FreeStyleBuild","number":2,"url":"https://ci.example.com/job/p/2/"},""" +
            """{"_class":"hudson.model.FreeStyleBuild","number":1,"url":"https://ci.example.com/job/p/1/"}]},""" +
            """{"_class":"hudson.model.FreeStyleProject","name":"q","url":"https://ci.example.com/job/q/","color":"notbuilt","description":null,"builds":[]}]""" +
            ""","description":null,"numExecutors":2,"useCrumbs":true}""",
            Json(Hudson(), depth: "1"));
    }

    [Fact]
    public void Tree_writes_only_the_named_properties_and_class()
    {
        Assert.Equal(
            """{"_class":"hudson.model.Hudson","jobs":[""" +
            """{"_class":"hudson.model.FreeStyleProject","name":"p","url":"https://ci.example.com/job/p/","color":"blue"},""" +
            """{"_class":"hudson.model.FreeStyleProject","name":"q","url":"https://ci.example.com/job/q/","color":"notbuilt"}]}""",
            Json(Hudson(), depth: "3", tree: "jobs[color,name,url]"));
    }

    [Fact]
    public void Tree_name_without_sub_list_writes_objects_as_class_only_and_skips_unknown_names()
    {
        Assert.Equal(
            """{"_class":"hudson.model.Hudson","jobs":[{"_class":"hudson.model.FreeStyleProject"},{"_class":"hudson.model.FreeStyleProject"}],"useCrumbs":true}""",
            Json(Hudson(), tree: "jobs,useCrumbs,nonsense"));
    }

    [Theory]
    [InlineData("builds[number]{0,2}", "3,2")]
    [InlineData("builds[number]{1}", "2")]
    [InlineData("builds[number]{1,}", "2,1")]
    [InlineData("builds[number]{,1}", "3")]
    [InlineData("builds[number]{5,}", "")]
    [InlineData(" builds [ number ] { 0 , 2 } ", "3,2")]
    public void Tree_range_slices_arrays(string tree, string numbers)
    {
        var expected = string.Join(',', numbers.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(n => $$"""{"_class":"hudson.model.FreeStyleBuild","number":{{n}}}"""));
        Assert.Equal($$"""{"_class":"hudson.model.FreeStyleProject","builds":[{{expected}}]}""", Json(Job("p", "blue", 3, 2, 1), tree: tree));
    }

    [Fact]
    public void Tree_reaches_tree_only_properties()
    {
        Assert.Equal(
            """{"_class":"hudson.model.FreeStyleProject","allBuilds":[{"_class":"hudson.model.FreeStyleBuild","number":1,"result":"SUCCESS"}]}""",
            Json(Job("p", "blue", 1), tree: "allBuilds[number,result]"));
    }

    [Fact]
    public void Inline_property_keeps_its_objects_at_the_owners_level()
    {
        static ApiObject Definitions() => new ApiObject("hudson.model.ParametersDefinitionProperty")
            .Add("parameterDefinitions", new[]
            {
                new ApiObject("hudson.model.StringParameterDefinition")
                    .Add("defaultParameterValue", new ApiObject("hudson.model.StringParameterValue")
                        .Add("name", "P", visibility: 3)
                        .Add("value", "d", visibility: 4), visibility: 3)
                    .Add("name", "P", visibility: 3),
            }, visibility: 2);
        var job = new ApiObject("hudson.model.FreeStyleProject")
            .Add("property", new[] { Definitions() }, inline: true)
            .Add("actions", new[] { Definitions() });

        Assert.Equal(
            """{"_class":"hudson.model.FreeStyleProject","property":[{"_class":"hudson.model.ParametersDefinitionProperty","parameterDefinitions":[""" +
            """{"_class":"hudson.model.StringParameterDefinition","defaultParameterValue":{"_class":"hudson.model.StringParameterValue","name":"P","value":"d"},"name":"P"}]}]""" +
            ""","actions":[{"_class":"hudson.model.ParametersDefinitionProperty","parameterDefinitions":[""" +
            """{"_class":"hudson.model.StringParameterDefinition","defaultParameterValue":{"_class":"hudson.model.StringParameterValue","value":"d"},"name":"P"}]}]}""",
            Json(job));
    }

    [Fact]
    public void Pretty_indents_and_strings_keep_readable_characters()
    {
        var obj = new ApiObject("hudson.model.FreeStyleProject").Add("fullDisplayName", "dir » a+b <c>").Add("score", 0.5);
        Assert.Equal(
            "{\n  \"_class\": \"hudson.model.FreeStyleProject\",\n  \"fullDisplayName\": \"dir » a+b <c>\",\n  \"score\": 0.5\n}",
            ApiRenderer.ToJson(obj, RenderOptions.Default, pretty: true).ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("jobs[name")]
    [InlineData("jobs]")]
    [InlineData("jobs[]")]
    [InlineData("jobs{0")]
    [InlineData("jobs{}")]
    [InlineData("jobs{,}")]
    [InlineData("jobs{a}")]
    [InlineData("jobs{-1}")]
    [InlineData("jobs{3,1}")]
    [InlineData("jobs{99999999999}")]
    [InlineData("jobs[name]x")]
    [InlineData("jobs,,name")]
    [InlineData(",")]
    [InlineData("")]
    public void Malformed_tree_is_an_error(string tree)
    {
        Assert.StartsWith("malformed tree", ApiRenderer.TryParse(null, tree, out _));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("11")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("")]
    public void Depth_outside_0_to_10_is_an_error(string depth)
    {
        Assert.StartsWith("depth must be 0 to 10", ApiRenderer.TryParse(depth, null, out _));
    }

    [Fact]
    public void Tree_parses_nested_lists_and_ranges()
    {
        Assert.Null(ApiRenderer.TryParse("2", "jobs[name,builds[number]{0,2}]{1}", out var options));
        var jobs = Assert.Single(options.Tree!);
        Assert.Equal(("jobs", 1, (int?)2), (jobs.Name, jobs.Start, jobs.End));
        Assert.Equal(["name", "builds"], jobs.Children!.Select(n => n.Name));
        Assert.Equal((0, (int?)2), (jobs.Children![1].Start, jobs.Children[1].End));
        Assert.Equal(2, options.Depth);
    }

    [Fact]
    public void Xml_names_root_by_class_repeats_array_items_singular_and_omits_nulls()
    {
        var doc = ApiRenderer.ToXml(Hudson(), RenderOptions.Default);
        Assert.Equal(
            """<hudson _class="hudson.model.Hudson">""" +
            """<job _class="hudson.model.FreeStyleProject"><name>p</name><url>https://ci.example.com/job/p/</url><color>blue</color></job>""" +
            """<job _class="hudson.model.FreeStyleProject"><name>q</name><url>https://ci.example.com/job/q/</url><color>notbuilt</color></job>""" +
            """<numExecutors>2</numExecutors><useCrumbs>true</useCrumbs></hudson>""",
            doc.Root!.ToString(SaveOptions.DisableFormatting));
    }

    [Theory]
    [InlineData("hudson.model.Hudson", "hudson")]
    [InlineData("hudson.model.Queue$WaitingItem", "waitingItem")]
    [InlineData("hudson.security.csrf.DefaultCrumbIssuer", "defaultCrumbIssuer")]
    [InlineData("org.jenkinsci.plugins.workflow.job.WorkflowJob", "workflowJob")]
    [InlineData("example.URLThing", "URLThing")]
    public void Xml_root_is_the_decapitalised_simple_class_name(string @class, string element)
    {
        Assert.Equal(element, ApiRenderer.ToXml(new ApiObject(@class), RenderOptions.Default).Root!.Name.LocalName);
    }

    [Theory]
    [InlineData("jobs", "job")]
    [InlineData("causes", "cause")]
    [InlineData("parameterDefinitions", "parameterDefinition")]
    [InlineData("choices", "choice")]
    [InlineData("properties", "property")]
    [InlineData("healthReport", "healthReport")]
    public void Xml_array_items_take_the_singular_name(string property, string element)
    {
        var obj = new ApiObject("hudson.model.ChoiceParameterDefinition").Add(property, new[] { "a", "b" });
        Assert.Equal(
            $"""<choiceParameterDefinition _class="hudson.model.ChoiceParameterDefinition"><{element}>a</{element}><{element}>b</{element}></choiceParameterDefinition>""",
            ApiRenderer.ToXml(obj, RenderOptions.Default).Root!.ToString(SaveOptions.DisableFormatting));
    }

    [Fact]
    public void Xml_writes_invariant_numbers_and_drops_characters_xml_cannot_hold()
    {
        var obj = new ApiObject("hudson.model.FreeStyleBuild").Add("duration", 1234567890123L).Add("score", 0.5).Add("description", "a\u0001b");
        Assert.Equal(
            """<freeStyleBuild _class="hudson.model.FreeStyleBuild"><duration>1234567890123</duration><score>0.5</score><description>ab</description></freeStyleBuild>""",
            ApiRenderer.ToXml(obj, RenderOptions.Default).ToString(SaveOptions.DisableFormatting));
    }

    static XDocument Crumb() => ApiRenderer.ToXml(
        new ApiObject("hudson.security.csrf.DefaultCrumbIssuer").Add("crumb", "abc").Add("crumbRequestField", "Jenkins-Crumb"),
        RenderOptions.Default);

    [Theory]
    [InlineData("""concat(//crumbRequestField,":",//crumb)""", "Jenkins-Crumb:abc")]
    [InlineData("//crumb/text()", "abc")]
    [InlineData("/defaultCrumbIssuer/@_class", "hudson.security.csrf.DefaultCrumbIssuer")]
    [InlineData("count(//*)", "3")]
    [InlineData("1 div 4", "0.25")]
    [InlineData("1000000 * 1000000 * 1000000 * 1000", "1000000000000000000000")]
    [InlineData("1 div 3", "0.3333333333333333")]
    [InlineData("0.1 + 0.2", "0.30000000000000004")]
    [InlineData("-15 div 10000000", "-0.0000015")]
    [InlineData("-12345 * 100000000000000000", "-1234500000000000000000")]
    [InlineData("-1 div 0", "-Infinity")]
    [InlineData("0 div 0", "NaN")]
    [InlineData("-0", "0")]
    [InlineData("//crumb = 'abc'", "true")]
    [InlineData("string(//nothing)", "")]
    public void Xpath_scalars_and_single_text_nodes_are_text(string xpath, string text)
    {
        Assert.Equal(new XPathResult.Text(text), ApiRenderer.EvaluateXPath(Crumb(), xpath, wrapper: null));
    }

    [Fact]
    public void Xpath_single_element_is_xml()
    {
        var result = ApiRenderer.EvaluateXPath(ApiRenderer.ToXml(Hudson(), RenderOptions.Default), "//job[name='q']", wrapper: null);
        var xml = Assert.IsType<XPathResult.Xml>(result);
        Assert.Equal(
            """<job _class="hudson.model.FreeStyleProject"><name>q</name><url>https://ci.example.com/job/q/</url><color>notbuilt</color></job>""",
            xml.Element.ToString(SaveOptions.DisableFormatting));
    }

    [Fact]
    public void Xpath_root_is_the_document_element()
    {
        var xml = Assert.IsType<XPathResult.Xml>(ApiRenderer.EvaluateXPath(Crumb(), "/", wrapper: null));
        Assert.Equal("defaultCrumbIssuer", xml.Element.Name.LocalName);
    }

    [Fact]
    public void Xpath_without_match_is_not_found()
    {
        Assert.IsType<XPathResult.NotFound>(ApiRenderer.EvaluateXPath(Crumb(), "//nothing", wrapper: null));
    }

    [Theory]
    [InlineData("//job")]
    [InlineData("//job[")]
    [InlineData("nofunction()")]
    [InlineData("$variable")]
    public void Xpath_matching_several_nodes_or_malformed_is_a_bad_request(string xpath)
    {
        Assert.IsType<XPathResult.BadRequest>(ApiRenderer.EvaluateXPath(ApiRenderer.ToXml(Hudson(), RenderOptions.Default), xpath, wrapper: null));
    }

    [Fact]
    public void Xpath_wrapper_puts_every_match_under_one_element()
    {
        var doc = ApiRenderer.ToXml(Hudson(), RenderOptions.Default);
        var xml = Assert.IsType<XPathResult.Xml>(ApiRenderer.EvaluateXPath(doc, "//job/name", wrapper: "names"));
        Assert.Equal("<names><name>p</name><name>q</name></names>", xml.Element.ToString(SaveOptions.DisableFormatting));
        xml = Assert.IsType<XPathResult.Xml>(ApiRenderer.EvaluateXPath(doc, "//job/@_class", wrapper: "classes"));
        Assert.Equal(
            "<classes><_class>hudson.model.FreeStyleProject</_class><_class>hudson.model.FreeStyleProject</_class></classes>",
            xml.Element.ToString(SaveOptions.DisableFormatting));
        xml = Assert.IsType<XPathResult.Xml>(ApiRenderer.EvaluateXPath(doc, "//nothing", wrapper: "none"));
        Assert.Equal("<none />", xml.Element.ToString());
        Assert.IsType<XPathResult.BadRequest>(ApiRenderer.EvaluateXPath(doc, "//job/name", wrapper: "<script>"));
    }

    const string NestedXPath = "count(//*[count(//*[count(//*[count(//*[count(//*[count(//*[count(//*)])])])])])])";

    [Fact]
    public void Xpath_over_its_visit_budget_stops_as_too_expensive()
    {
        var doc = ApiRenderer.ToXml(Hudson(), RenderOptions.Default);
        Assert.IsType<XPathResult.Text>(ApiRenderer.EvaluateXPath(doc, "count(//*)", wrapper: null, visits: 1000));
        Assert.IsType<XPathResult.TooExpensive>(ApiRenderer.EvaluateXPath(doc, NestedXPath, wrapper: null));
    }

    [Fact]
    public void Xpath_stops_as_soon_as_its_client_has_gone()
    {
        var doc = ApiRenderer.ToXml(Hudson(), RenderOptions.Default);
        var result = ApiRenderer.EvaluateXPath(doc, NestedXPath, wrapper: null, new CancellationToken(canceled: true), visits: long.MaxValue);
        Assert.IsType<XPathResult.TooExpensive>(result);
    }

    [Fact]
    public void Xpath_longer_than_1024_characters_is_refused_before_it_is_compiled()
    {
        var doc = ApiRenderer.ToXml(Hudson(), RenderOptions.Default);
        Assert.IsType<XPathResult.TooExpensive>(ApiRenderer.EvaluateXPath(doc, "/" + new string(' ', 1024), wrapper: null));
    }

    [Fact]
    public void Tree_longer_than_1024_characters_or_nested_deeper_than_10_is_a_bad_query()
    {
        Assert.Null(ApiRenderer.TryParse(null, string.Concat(Enumerable.Repeat("a[", 10)) + "b" + new string(']', 10), out _));
        Assert.NotNull(ApiRenderer.TryParse(null, string.Concat(Enumerable.Repeat("a[", 11)) + "b" + new string(']', 11), out _));
        Assert.NotNull(ApiRenderer.TryParse(null, string.Join(',', Enumerable.Repeat("abcd", 210)), out _));
    }

    [Theory]
    [InlineData("\U0001F600")]
    [InlineData("a\0\U0001F600tt")]
    [InlineData("\uD83Dx\U0001F600")]
    public void Xml_keeps_surrogate_pairs_whole_and_drops_only_what_xml_cannot_hold(string description)
    {
        var doc = ApiRenderer.ToXml(new ApiObject("hudson.model.FreeStyleProject").Add("description", description), RenderOptions.Default);
        var text = doc.Root!.ToString(SaveOptions.DisableFormatting);
        Assert.Contains("\U0001F600", text);
        Assert.DoesNotContain("\0", text);
    }

    [Theory]
    [InlineData("id('x')")]
    [InlineData("//namespace::*")]
    [InlineData("/*/namespace::xml")]
    public void Xpath_over_ids_and_namespace_nodes_answers_without_failing(string xpath)
    {
        var doc = ApiRenderer.ToXml(Hudson(), RenderOptions.Default);
        foreach (var wrapper in new[] { null, "w" })
        {
            var result = ApiRenderer.EvaluateXPath(doc, xpath, wrapper);
            if (result is XPathResult.Xml xml)
                Assert.NotEmpty(xml.Element.ToString(SaveOptions.DisableFormatting));
        }
        Assert.IsType<XPathResult.NotFound>(ApiRenderer.EvaluateXPath(doc, "id('x')", wrapper: null));
    }

    [Fact]
    public void An_empty_wrapper_is_a_bad_request()
    {
        Assert.IsType<XPathResult.BadRequest>(ApiRenderer.EvaluateXPath(Crumb(), "/*", wrapper: ""));
    }
}
