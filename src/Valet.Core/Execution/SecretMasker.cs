namespace Valet.Core.Execution;

/// <summary>Replaces secret values (password parameters) in console text with ****.</summary>
public sealed class SecretMasker(IEnumerable<string> secrets)
{
    public const string Mask = "****";

    // Longest first, so a secret that contains another is masked whole.
    readonly string[] secrets = secrets.Where(s => s.Length > 0).Distinct().OrderByDescending(s => s.Length).ToArray();

    public bool IsEmpty => secrets.Length == 0;

    public string Apply(string text)
    {
        foreach (var secret in secrets)
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        return text;
    }
}
