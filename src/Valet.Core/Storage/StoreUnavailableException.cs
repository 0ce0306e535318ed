namespace Valet.Core.Storage;

/// <summary>
/// The store cannot take writes now (a failed flush, a full disk, a database out of reach): the
/// caller is told so, never answered as if its change were stored (limits.md §5).
/// </summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
