using Serilog;
using Serilog.Events;

namespace Valet.Server.Hosting;

static class LoggingSetup
{
    /// <summary>
    /// Console and file both show time, level and category. Serilog passes everything on so that the
    /// standard Logging:LogLevel settings stay in charge.
    /// </summary>
    public static void AddValetLogging(this WebApplicationBuilder builder, string logDirectory)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        var fileLogger = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .WriteTo.File(Path.Combine(logDirectory, "valet.log"),
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, restrictedToMinimumLevel: LogEventLevel.Verbose)
            .CreateLogger();
        // Added as a plain provider: Serilog's AddSerilog also adds a provider-wide Trace rule, which
        // would let every category (the framework's raw request log included) past the rules below.
        builder.Logging.AddProvider(new Serilog.Extensions.Logging.SerilogLoggerProvider(fileLogger, dispose: true));
        // The framework's request log writes raw query strings (token=…): pinned off here, where
        // configuration cannot lift it; Valet writes its own redacting request log instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Http.Result", LogLevel.Warning);
        // The filters above lose to provider-specific levels in configuration; the wrappers do not.
        PinnedLoggerProvider.WrapAll(builder.Services);
    }
}
