using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core;
using Nudge.Core.Imports;
using Nudge.Storage;

namespace Nudge.App.Functions;

/// <summary>
/// The marketer API for imports of a shop's existing customers and orders, from CSV or from the shop's platform, and
/// the queue function that applies them slice by slice.
/// </summary>
public sealed partial class ImportsFunctions(IOptions<NudgeOptions> options, ImportHandler imports, HostJson host, ILogger<ImportsFunctions> logger)
{
    /// <summary>
    /// <c>POST /api/imports?kind=customers|orders&amp;platform=shopify&amp;shop=example.myshopify.com</c> with a
    /// <c>text/csv</c> body: 202 and the import's progress; the same file again answers the same import. Without a body
    /// the shop's platform is read through its Admin API instead (the shop must be configured with its credentials).
    /// </summary>
    [Function("Imports")]
    public async Task<IResult> StartAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "imports")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var kind = request.Query["kind"].ToString();
        var platform = request.Query["platform"].ToString();
        var shop = request.Query["shop"].ToString();
        if (!ImportKinds.IsKnown(kind))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid import", "'kind' must be customers or orders.");
        }

        if (platform.Length is 0 or > 32 || !platform.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid import", "'platform' must name the customers' platform (shopify, woocommerce, cafe24, web): lowercase letters and digits.");
        }

        if (shop.Length is 0 or > 255 || shop.Any(char.IsControl))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid import", "'shop' must name the shop (its domain or mall id), at most 255 characters.");
        }

        // No body at all (no length, or zero, and no type): the platform is the source.
        if (request.ContentLength == 0 || (request.ContentLength is null && request.ContentType is null && !request.Headers.TransferEncoding.Any()))
        {
            return Accepted(await imports.StartPlatformAsync(kind, platform, shop.ToLowerInvariant(), cancellationToken), kind, request);
        }

        if (request.ContentType is not { } type || !type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            return Http.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the file as text/csv (UTF-8, a header row first), or no body to import from the platform.");
        }

        var max = options.Value.ImportMaxUploadBytes;
        if (request.ContentLength > max)
        {
            return TooLarge(max);
        }

        // Kestrel's default bound (30 MB) gives way to the import's own; the Functions host allows 100 MB by default.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = max + 1;
        }

        return Accepted(await imports.StartAsync(kind, platform, shop.ToLowerInvariant(), request.Body, cancellationToken), kind, request);
    }

    private IResult Accepted(ImportAccepted accepted, string kind, HttpRequest request)
    {
        switch (accepted)
        {
            case ImportAccepted.Started started:
                LogAccepted(logger, started.State.Id, kind, started.State.Source, started.State.Bytes, started.New);
                request.HttpContext.Response.Headers.Location = $"/api/imports/{started.State.Id}";
                return Results.Json(imports.ProgressOf(started.State), NudgeJson.Options, statusCode: StatusCodes.Status202Accepted);
            case ImportAccepted.TooLarge tooLarge:
                return TooLarge(tooLarge.MaxBytes);
            case ImportAccepted.BadFile bad:
                return Http.Problem(StatusCodes.Status400BadRequest, "Invalid import file", bad.Problem);
            case ImportAccepted.NotConfigured notConfigured:
                return Http.Problem(StatusCodes.Status400BadRequest, "Cannot import from the platform", notConfigured.Problem);
            default:
                throw new InvalidOperationException($"Unknown outcome {accepted.GetType().Name}.");
        }
    }

    /// <summary>An import's counts, its bad rows by line, the share of the file done and an estimate of the time left.</summary>
    [Function("ImportItem")]
    public async Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "imports/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var progress = ImportHandler.IsImportId(id) ? await imports.ProgressAsync(id, cancellationToken) : null;
        return progress is null
            ? Http.Problem(StatusCodes.Status404NotFound, "Unknown import", "No import has that id.")
            : Results.Json(progress, NudgeJson.Options);
    }

    /// <summary>
    /// Applies the next slice of an import; a slice that runs out of time queues the one after it. When the last attempt
    /// fails too, the import shows stalled (and why) instead of running, while the message goes to the poison queue.
    /// </summary>
    [Function("ImportWork")]
    public async Task WorkAsync([QueueTrigger(StorageNames.ImportsQueue, Connection = "AzureWebJobsStorage")] QueueMessage message, CancellationToken ct)
    {
        var work = JsonSerializer.Deserialize<ImportWorkMessage>(message.Body.ToMemory().Span, NudgeJson.Options) ?? throw new InvalidDataException("Empty import message.");
        var state = await QueueAttempts.StallingOnLastAttemptAsync(message, host, () => imports.RunSliceAsync(work.ImportId, ct), async why =>
        {
            var problem = $"{why}: start the same import again, or replay the imports queue, to resume from its checkpoint";
            LogStalled(logger, work.ImportId, (await imports.StallAsync(work.ImportId, problem, ct))?.Status ?? "unknown");
        });
        LogSlice(logger, work.ImportId, state?.Status ?? "unknown", state?.Applied ?? 0, state?.Skipped ?? 0);
    }

    private static IResult TooLarge(long max) =>
        Http.Problem(StatusCodes.Status413PayloadTooLarge, "File too large", $"One import takes at most {max} bytes: split the file and upload the parts as separate imports.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {ImportId} ({Kind} from {Source}, {Bytes} bytes) accepted; new: {New}")]
    private static partial void LogAccepted(ILogger logger, string importId, string kind, string source, long bytes, bool @new);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {ImportId}: its slice failed on the last attempt; the import is {Status}")]
    private static partial void LogStalled(ILogger logger, string importId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {ImportId}: {Status}, {Applied} rows applied, {Skipped} skipped")]
    private static partial void LogSlice(ILogger logger, string importId, string status, long applied, long skipped);
}
