using CsCheck;

namespace Valet.Core.Tests;

/// <summary>
/// Generators of text that parsers meet from hostile callers: a parser's own tokens mixed with
/// control characters, lone surrogates, non-ASCII and any other char, so that both the near-valid
/// and the nonsensical are sampled.
/// </summary>
public static class HostileText
{
    static readonly string[] Odd = ["\0", "\n", "\r", "\t", " ", "\uD800", "\uDC00", "\U0001F600", "ä", "\u200B", "\uFEFF", "\u0660", "%", "\\", "\""];

    /// <summary>Any char at all, the odd ones more often than chance would give them.</summary>
    public static readonly Gen<string> Piece = Gen.Frequency(
        (3, Gen.Char.Select(c => c.ToString())),
        (2, Gen.OneOf(Odd)));

    /// <summary>Up to <paramref name="max"/> pieces, mostly <paramref name="tokens"/>.</summary>
    public static Gen<string> From(int max, params string[] tokens) =>
        Gen.Frequency((4, Gen.OneOf(tokens)), (1, Piece)).Array[0, max].Select(string.Concat);

    /// <summary><paramref name="valid"/> with pieces inserted, deleted or replaced at random places.</summary>
    public static Gen<string> Mutations(string valid, int edits = 4) =>
        Gen.Select(Gen.Int[0, int.MaxValue].Array[1, edits], Piece.Array[edits, edits], (positions, pieces) =>
        {
            var text = valid;
            for (var i = 0; i < positions.Length; i++)
            {
                var at = positions[i] % (text.Length + 1);
                text = (positions[i] % 3) switch
                {
                    0 => text.Insert(at, pieces[i]),
                    1 => text.Remove(at, Math.Min(pieces[i].Length, text.Length - at)),
                    _ => text[..at] + pieces[i] + text[Math.Min(text.Length, at + 1)..],
                };
            }
            return text;
        });
}
