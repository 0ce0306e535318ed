using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Items;

public sealed class ParameterBinderTests
{
    static ParameterDefinition Def(ParameterType type, string name = "foo", string? @default = null, bool trim = false, params string[] choices) =>
        new() { Type = type, Name = name, Default = @default, Trim = trim, Choices = choices };

    /// <summary>A request as name → every value sent under it.</summary>
    static Func<string, IReadOnlyList<string>> Request(params (string Name, string Value)[] sent) =>
        name => sent.Where(p => p.Name == name).Select(p => p.Value).ToList();

    static string Bound(ParameterDefinition def, params (string Name, string Value)[] sent)
    {
        var result = ParameterBinder.Bind([def], Request(sent));
        Assert.True(result.Ok, result.Problem);
        return Assert.Single(result.Values!).Value;
    }

    public static TheoryData<ParameterDefinition, string> AbsentCases => new()
    {
        { Def(ParameterType.String), "" },
        { Def(ParameterType.String, @default: "d"), "d" },
        { Def(ParameterType.String, @default: " d ", trim: true), "d" },
        { Def(ParameterType.String, @default: " d "), " d " },
        { Def(ParameterType.Text), "" },
        { Def(ParameterType.Text, @default: "line1\nline2"), "line1\nline2" },
        { Def(ParameterType.Password), "" },
        { Def(ParameterType.Password, @default: "hunter2"), "hunter2" },
        { Def(ParameterType.Boolean), "false" },
        { Def(ParameterType.Boolean, @default: "true"), "true" },
        { Def(ParameterType.Boolean, @default: "false"), "false" },
        { Def(ParameterType.Choice, choices: ["S", "M", "L"]), "S" },
        { Def(ParameterType.Choice, @default: "M", choices: ["S", "M", "L"]), "M" },
    };

    [Theory]
    [MemberData(nameof(AbsentCases))]
    public void An_absent_parameter_takes_its_default(ParameterDefinition def, string expected) => Assert.Equal(expected, Bound(def));

    [Theory]
    [MemberData(nameof(AbsentCases))]
    public void The_default_value_is_what_an_absent_parameter_gets(ParameterDefinition def, string expected) => Assert.Equal(expected, def.DefaultValue);

    [Fact]
    public void A_choice_without_choices_defaults_to_empty() => Assert.Equal("", Def(ParameterType.Choice).DefaultValue);

    [Theory]
    [InlineData("TRUE", "true")]
    [InlineData("yes", "false")]
    [InlineData("", "false")]
    public void A_boolean_default_is_read_like_a_boolean(string @default, string expected) =>
        Assert.Equal(expected, Def(ParameterType.Boolean, @default: @default).DefaultValue);

    [Theory]
    [InlineData(ParameterType.String)]
    [InlineData(ParameterType.Text)]
    [InlineData(ParameterType.Password)]
    public void An_empty_value_is_empty_not_the_default(ParameterType type) =>
        Assert.Equal("", Bound(Def(type, @default: "d"), ("foo", "")));

    [Fact]
    public void An_empty_boolean_is_false_even_with_a_true_default() =>
        Assert.Equal("false", Bound(Def(ParameterType.Boolean, @default: "true"), ("foo", "")));

    [Fact]
    public void An_empty_choice_is_refused_unless_empty_is_a_choice()
    {
        Assert.Equal("foo", ParameterBinder.Bind([Def(ParameterType.Choice, choices: ["S", "M"])], Request(("foo", ""))).BadParameter);
        Assert.Equal("", Bound(Def(ParameterType.Choice, choices: ["S", ""]), ("foo", "")));
    }

    [Theory]
    [InlineData("true", "true")]
    [InlineData("TRUE", "true")]
    [InlineData("True", "true")]
    [InlineData("tRuE", "true")]
    [InlineData("1", "false")]
    [InlineData("yes", "false")]
    [InlineData("on", "false")]
    [InlineData("false", "false")]
    [InlineData(" true", "false")]
    [InlineData("anything", "false")]
    public void A_boolean_is_true_only_for_true_in_any_case(string sent, string expected) =>
        Assert.Equal(expected, Bound(Def(ParameterType.Boolean, @default: "true"), ("foo", sent)));

    [Theory]
    [InlineData("S")]
    [InlineData("M")]
    [InlineData("L")]
    public void A_choice_in_the_list_is_taken(string sent) =>
        Assert.Equal(sent, Bound(Def(ParameterType.Choice, choices: ["S", "M", "L"]), ("foo", sent)));

    [Theory]
    [InlineData("XL")]
    [InlineData("m")]
    [InlineData(" M")]
    [InlineData("M ")]
    public void A_choice_not_in_the_list_exactly_is_a_bad_parameter(string sent)
    {
        var result = ParameterBinder.Bind([Def(ParameterType.Choice, name: "size", choices: ["S", "M", "L"])], Request(("size", sent)));
        Assert.False(result.Ok);
        Assert.Null(result.Values);
        Assert.Equal("size", result.BadParameter);
        Assert.Contains("size", result.Problem);
    }

    [Theory]
    [InlineData(ParameterType.String)]
    [InlineData(ParameterType.Boolean)]
    [InlineData(ParameterType.Password)]
    public void A_parameter_given_twice_is_a_bad_parameter(ParameterType type)
    {
        var result = ParameterBinder.Bind([Def(type, name: "a"), Def(type, name: "foo")], Request(("foo", "true"), ("foo", "true")));
        Assert.False(result.Ok);
        Assert.Equal("foo", result.BadParameter);
        Assert.Contains("2 times", result.Problem);
    }

    [Fact]
    public void A_string_with_trim_loses_surrounding_whitespace() =>
        Assert.Equal("a b", Bound(Def(ParameterType.String, trim: true), ("foo", " \ta b\n ")));

    [Fact]
    public void A_string_without_trim_keeps_its_whitespace() =>
        Assert.Equal(" a ", Bound(Def(ParameterType.String), ("foo", " a ")));

    [Theory]
    [InlineData(ParameterType.Text)]
    [InlineData(ParameterType.Password)]
    public void Text_and_password_are_taken_as_sent_even_with_trim(ParameterType type) =>
        Assert.Equal("  two\nlines  ", Bound(Def(type, trim: true), ("foo", "  two\nlines  ")));

    [Fact]
    public void Values_follow_the_declared_order_and_ignore_undefined_and_differently_cased_names()
    {
        var defs = new[] { Def(ParameterType.String, name: "foo", @default: "d"), Def(ParameterType.Password, name: "pw"), Def(ParameterType.Boolean, name: "flag") };
        var result = ParameterBinder.Bind(defs, Request(("flag", "TRUE"), ("zzz", "1"), ("Foo", "x"), ("job", "p"), ("pw", "s")));
        Assert.True(result.Ok);
        Assert.Equal(
            [new ParameterValue("foo", ParameterType.String, "d"), new ParameterValue("pw", ParameterType.Password, "s"), new ParameterValue("flag", ParameterType.Boolean, "true")],
            result.Values);
        Assert.Equal([false, true, false], result.Values!.Select(v => v.IsSecret));
    }
}
