using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Items;

public sealed class ItemNameTests
{
    [Theory]
    [InlineData("p")]
    [InlineData("deploy app")]
    [InlineData("a.b")]
    [InlineData(".hidden")]
    [InlineData("...")]
    [InlineData("trailing.")]
    [InlineData("Größe-ÄÖÜ")]
    [InlineData("日本語のジョブ")]
    [InlineData("with_underscore-and-dash(1),{2}")]
    [InlineData("quote'and\"double")]
    public void Valid_names_have_no_problem(string name) => Assert.Null(ItemName.Problem(name));

    [Fact]
    public void A_name_of_exactly_200_characters_is_valid() => Assert.Null(ItemName.Problem(new string('x', 200)));

    [Fact]
    public void A_name_of_201_characters_is_refused() => Assert.Contains("at most 200", ItemName.Problem(new string('x', 201)));

    [Fact]
    public void An_empty_name_is_refused() => Assert.Contains("empty", ItemName.Problem(""));

    [Theory]
    [InlineData(" p")]
    [InlineData("p ")]
    [InlineData(" ")]
    [InlineData("  p  ")]
    public void A_leading_or_trailing_space_is_refused(string name) => Assert.Contains("space", ItemName.Problem(name));

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public void Dot_and_dot_dot_are_refused(string name) => Assert.Contains("'.' or '..'", ItemName.Problem(name));

    [Theory]
    [InlineData('?')]
    [InlineData('*')]
    [InlineData('/')]
    [InlineData('\\')]
    [InlineData('%')]
    [InlineData('!')]
    [InlineData('@')]
    [InlineData('#')]
    [InlineData('$')]
    [InlineData('^')]
    [InlineData('&')]
    [InlineData('|')]
    [InlineData('<')]
    [InlineData('>')]
    [InlineData('[')]
    [InlineData(']')]
    [InlineData(':')]
    [InlineData(';')]
    public void Each_forbidden_character_is_refused_and_named(char c)
    {
        foreach (var name in new[] { $"{c}", $"a{c}b", $"ab{c}" })
            Assert.Contains($"'{c}'", ItemName.Problem(name));
    }

    [Theory]
    [InlineData("a\u0000b")]
    [InlineData("a\tb")]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a\u001Fb")]
    [InlineData("a\u007Fb")]
    [InlineData("a\u0085b")]
    [InlineData("a\u009Fb")]
    public void Control_characters_are_refused(string name) => Assert.Contains("control characters", ItemName.Problem(name));

    [Fact]
    public void Keys_ignore_case_with_the_invariant_upper_case()
    {
        Assert.Equal(ItemName.Key("Deploy"), ItemName.Key("dEPLOY"));
        Assert.Equal(ItemName.Key("größe"), ItemName.Key("GRÖßE"));
        Assert.NotEqual(ItemName.Key("a"), ItemName.Key("b"));
    }

    [Theory]
    [InlineData("dir/p", new[] { "dir", "p" })]
    [InlineData("/dir//p/", new[] { "dir", "p" })]
    [InlineData("//", new string[0])]
    [InlineData("./..", new[] { ".", ".." })]
    public void Segments_drop_empty_parts(string fullName, string[] expected) => Assert.Equal(expected, ItemName.Segments(fullName));
}
