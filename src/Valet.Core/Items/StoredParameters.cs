using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Items;

/// <summary>Parameter values as stored: JSON, with password values encrypted, never in clear.</summary>
public static class StoredParameters
{
    sealed record StoredValue(string Name, ParameterType Type, string Value);

    public static string? Seal(IReadOnlyList<ParameterValue>? values, InstallationSecrets secrets) => values is null ? null :
        Json.Write(values.Select(v => new StoredValue(v.Name, v.Type, v.IsSecret ? secrets.Encrypt(v.Value) : v.Value)).ToList());

    public static IReadOnlyList<ParameterValue>? Unseal(string? json, InstallationSecrets secrets) => json is null ? null :
        Json.Read<List<StoredValue>>(json).Select(v => new ParameterValue(v.Name, v.Type, v.Type == ParameterType.Password ? secrets.Decrypt(v.Value) : v.Value)).ToList();
}
