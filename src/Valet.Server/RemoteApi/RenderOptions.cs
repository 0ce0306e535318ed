using System.Globalization;

namespace Valet.Server.RemoteApi;

/// <summary>What a request asked to see: <c>depth=</c>, or the <c>tree=</c> selection that overrides it.</summary>
public sealed record RenderOptions(int Depth, IReadOnlyList<TreeNode>? Tree)
{
    public static readonly RenderOptions Default = new(0, null);
}

/// <summary>
/// One name of <c>tree=</c>. <see cref="Children"/> is null without a <c>[sub,list]</c> (an object
/// then shows only <c>_class</c>); <see cref="Start"/> and <see cref="End"/> (exclusive, null = open)
/// slice arrays.
/// </summary>
public sealed record TreeNode(string Name, IReadOnlyList<TreeNode>? Children, int Start = 0, int? End = null);

/// <summary>Recursive descent over <c>list := term (',' term)*</c>, <c>term := name ('[' list ']')? ('{' range '}')?</c>.</summary>
sealed class TreeParser
{
    readonly string text;
    readonly int maxNesting;
    int pos;
    int nesting;

    TreeParser(string text, int maxNesting)
    {
        this.text = text;
        this.maxNesting = maxNesting;
    }

    /// <exception cref="FormatException">The text is not a tree; the message says where.</exception>
    public static IReadOnlyList<TreeNode> Parse(string text, int maxNesting = int.MaxValue)
    {
        var parser = new TreeParser(text, maxNesting);
        var list = parser.List();
        parser.SkipSpace();
        return parser.pos == text.Length ? list : throw parser.Error("',' or the end");
    }

    List<TreeNode> List()
    {
        var nodes = new List<TreeNode>();
        do nodes.Add(Term());
        while (Accept(','));
        return nodes;
    }

    TreeNode Term()
    {
        var name = Name();
        List<TreeNode>? children = null;
        if (Accept('['))
        {
            // Recursion depth follows the nesting, so the limit also keeps the stack bounded.
            if (++nesting > maxNesting)
                throw Error($"at most {maxNesting} nested '['");
            children = List();
            Expect(']');
            nesting--;
        }
        if (!Accept('{'))
            return new(name, children);
        var (start, end) = Range();
        Expect('}');
        return new(name, children, start, end);
    }

    string Name()
    {
        SkipSpace();
        var begin = pos;
        while (pos < text.Length && !char.IsWhiteSpace(text[pos]) && "[]{},".IndexOf(text[pos]) < 0)
            pos++;
        return pos > begin ? text[begin..pos] : throw Error("a name");
    }

    // {N} is element N alone; {N,} from N on; {,M} up to M exclusive; {N,M} both.
    (int Start, int? End) Range()
    {
        var first = Number();
        if (!Accept(','))
            return first is { } n ? (n, n + 1) : throw Error("a number");
        var second = Number();
        if (first is null && second is null)
            throw Error("a number");
        var start = first ?? 0;
        return second is { } m && m < start ? throw Error($"an end ≥ {start}") : (start, second);
    }

    int? Number()
    {
        SkipSpace();
        var begin = pos;
        while (pos < text.Length && char.IsAsciiDigit(text[pos]))
            pos++;
        if (pos == begin)
            return null;
        // int.MaxValue is refused too, so that {N} can say N + 1.
        return int.TryParse(text.AsSpan(begin, pos - begin), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < int.MaxValue
            ? n
            : throw Error("a smaller number");
    }

    bool Accept(char c)
    {
        SkipSpace();
        if (pos < text.Length && text[pos] == c)
        {
            pos++;
            return true;
        }
        return false;
    }

    void Expect(char c)
    {
        if (!Accept(c))
            throw Error($"'{c}'");
    }

    void SkipSpace()
    {
        while (pos < text.Length && char.IsWhiteSpace(text[pos]))
            pos++;
    }

    FormatException Error(string expected) => new($"expected {expected} at position {pos}");
}
