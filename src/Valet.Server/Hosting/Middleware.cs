using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;

namespace Valet.Server.Hosting;

/// <summary>The headers Jenkins clients probe for, on every answer (errors and 201 too).</summary>
public sealed class JenkinsHeadersMiddleware(RequestDelegate next)
{
    static readonly string Session = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    static readonly string Version = typeof(JenkinsHeadersMiddleware).Assembly.GetName().Version?.ToString(3) ?? "0.1.0";

    public Task InvokeAsync(HttpContext context)
    {
        var h = context.Response.Headers;
        h["X-Jenkins"] = "2.541";
        h["X-Hudson"] = "1.395";
        h["X-Jenkins-Session"] = Session;
        h["X-Valet"] = Version;
        h["X-Content-Type-Options"] = "nosniff";
        return next(context);
    }
}

/// <summary>Valet's request log: method, path, query with `token` redacted, status, time. Never a header.</summary>
public sealed partial class RequestLogMiddleware(RequestDelegate next, ILoggerFactory loggers)
{
    readonly ILogger logger = loggers.CreateLogger("Valet.Requests");

    public async Task InvokeAsync(HttpContext context)
    {
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        await next(context);
        Log.Request(logger, context.Request.Method, context.Request.Path, RedactedQuery(context.Request.Query),
            context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    // Values of other names may be build parameters, passwords among them: written as ***.
    static readonly HashSet<string> Shown = new(StringComparer.OrdinalIgnoreCase) { "job", "delay", "cause", "id", "tree", "depth", "start", "pretty", "xpath", "wrapper", "limit", "before", "from", "name" };

    public static string RedactedQuery(IQueryCollection query) => query.Count == 0 ? "" :
        "?" + string.Join('&', query.SelectMany(kv => kv.Value.Select(v =>
            Uri.EscapeDataString(kv.Key) + "=" + (Shown.Contains(kv.Key) ? Uri.EscapeDataString(v ?? "") : "***"))));

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path}{Query} -> {Status} in {Elapsed:0.0} ms")]
        public static partial void Request(ILogger logger, string method, string path, string query, int status, double elapsed);
    }
}

/// <summary>
/// Valet's 1 MiB body limit, kept by Valet rather than by Kestrel: a body over it is refused with
/// Kestrel's own 413 exception, while Kestrel's larger limit (<see cref="DrainLimit"/>) lets it read and
/// drop the rest after the answer. Closing with unread bytes would reset the connection, and a client still
/// sending would often lose the 413 to a broken pipe.
/// </summary>
public sealed class BodyLimitMiddleware(RequestDelegate next)
{
    public const long Limit = 1024 * 1024;
    public const long DrainLimit = 8 * Limit;
    public const string TooLargeMessage = "The request body is larger than 1 MiB";

    /// <summary>The answer to a body over the limit, for an endpoint that knows it from Content-Length before reading.</summary>
    public static IResult TooLarge() => Http.Error(413, "body-too-large", TooLargeMessage);

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
            context.Request.Body = new LimitedBody(context.Request.Body, context.Request.ContentLength);
        return next(context);
    }

    sealed class LimitedBody(Stream inner, long? announced) : Stream
    {
        long read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, Room(count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            Count(await inner.ReadAsync(buffer[..Room(buffer.Length)], ct));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        // One byte past the limit is read, to tell a body of exactly 1 MiB from a longer one.
        int Room(int wanted)
        {
            if (announced > Limit || read > Limit)
                throw Refused();
            return (int)Math.Min(wanted, Limit + 1 - read);
        }

        int Count(int n)
        {
            read += n;
            return read > Limit ? throw Refused() : n;
        }

        static BadHttpRequestException Refused() => new(TooLargeMessage, StatusCodes.Status413PayloadTooLarge);

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>A bug answers 500 with a neutral line; the details go to the log only.</summary>
public sealed partial class ErrorBoundaryMiddleware(RequestDelegate next, ILogger<ErrorBoundaryMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e)
        {
            if (!context.Response.HasStarted)
                await Http.WriteErrorAsync(context, e.StatusCode, e.StatusCode == 413 ? "body-too-large" : "bad-request",
                    e.StatusCode == 413 ? BodyLimitMiddleware.TooLargeMessage : "The request could not be read");
        }
        // Kestrel reports a chunk size past 32 bits as an IOException around an OverflowException,
        // not as the BadHttpRequestException of every other framing error.
        catch (IOException e) when (e.InnerException is OverflowException)
        {
            if (!context.Response.HasStarted)
                await Http.WriteErrorAsync(context, 400, "bad-request", "The request could not be read");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        // Logged once by the store when it starts refusing, not per request.
        catch (Valet.Core.Storage.StoreUnavailableException)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.Headers.RetryAfter = "10";
                await Http.WriteErrorAsync(context, 503, "store-failed", "Valet cannot store anything now; try again later");
            }
        }
        catch (Exception e)
        {
            Log.Failed(logger, e, context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await Http.WriteErrorAsync(context, 500, "internal-error", "Valet failed to handle this request; the server log has the details");
            }
        }
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Request {Method} {Path} failed")]
        public static partial void Failed(ILogger logger, Exception e, string method, string path);
    }
}
