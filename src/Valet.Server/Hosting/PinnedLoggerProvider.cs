namespace Valet.Server.Hosting;

/// <summary>
/// Wraps a logging provider so the framework's categories that write raw requests (query strings with
/// <c>token=…</c>, bound values) never get through below Warning, whatever the configuration says:
/// a provider-specific level (<c>Logging__Console__LogLevel__Default=Trace</c>) outranks any
/// <c>AddFilter</c> rule without a provider, but not a clamp inside the provider itself.
/// </summary>
class PinnedLoggerProvider(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
{
    static readonly string[] Pinned =
    [
        "Microsoft.AspNetCore.Hosting.Diagnostics",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http",
    ];

    public static bool IsPinned(string category) =>
        Pinned.Any(p => category.StartsWith(p, StringComparison.Ordinal) && (category.Length == p.Length || category[p.Length] is '.' or '['));

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return IsPinned(categoryName) ? new AtLeast(logger, LogLevel.Warning) : logger;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (inner is ISupportExternalScope scoped)
            scoped.SetScopeProvider(scopeProvider);
    }

    public void Dispose() => inner.Dispose();

    sealed class AtLeast(ILogger inner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= minimum)
                inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }

    /// <summary>
    /// Wraps every provider registered so far. The console keeps its alias, so
    /// <c>Logging:Console:LogLevel</c> still applies to it, below the clamp.
    /// </summary>
    public static void WrapAll(IServiceCollection services)
    {
        foreach (var descriptor in services.Where(d => d.ServiceType == typeof(ILoggerProvider)).ToList())
        {
            services.Remove(descriptor);
            var isConsole = descriptor.ImplementationType == typeof(Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider);
            services.AddSingleton<ILoggerProvider>(sp =>
            {
                var provider = (ILoggerProvider)(descriptor.ImplementationInstance
                    ?? descriptor.ImplementationFactory?.Invoke(sp)
                    ?? ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!));
                return isConsole ? new PinnedConsoleLoggerProvider(provider) : new PinnedLoggerProvider(provider);
            });
        }
    }
}

[ProviderAlias("Console")]
sealed class PinnedConsoleLoggerProvider(ILoggerProvider inner) : PinnedLoggerProvider(inner);
