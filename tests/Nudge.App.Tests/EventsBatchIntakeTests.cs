using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// <c>POST /api/events/batch</c> through group commit, on an app whose queue triggers are off: what the endpoint
/// wrote is inspected before anything processes it, then processed as the <c>IngestBatches</c> trigger would.
/// </summary>
public class EventsBatchIntakeTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>(IngestSourcesTests.Shops) { ["Nudge:LocalTriggers"] = "false" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string Page(string messageId, string userId) =>
        $$$"""{"type":"page","messageId":"{{{messageId}}}","userId":"{{{userId}}}","timestamp":"2026-11-24T01:00:00Z","properties":{"url":"https://site.example/{{{messageId}}}"}}""";

    private static string BatchOf(IEnumerable<string> messages) => "{\"batch\":[" + string.Join(",", messages) + "]}";

    private async Task<List<(string? MessageId, string? Status)>> SendBatchAsync(string body)
    {
        using var response = await _app.Client.SendAsync(IngestSourcesTests.Events("/api/events/batch", body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray()
            .Select(r => (r.GetProperty("messageId").GetString(), r.GetProperty("status").GetString())).ToList();
    }

    /// <summary>The texts of every message on the queue, taken off it.</summary>
    private async Task<List<string>> TakeAllAsync(string queueName)
    {
        var queue = TestStorage.Clients().Queues.GetQueueClient(_app.Names.Queue(queueName));
        var texts = new List<string>();
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value is { Length: > 0 } messages)
        {
            texts.AddRange(messages.Select(m => m.Body.ToString()));
        }

        return texts;
    }

    private async Task<List<TableEntity>> EventRowsAsync() =>
        await TestStorage.Clients().Tables.GetTableClient(_app.Names.Events).QueryAsync<TableEntity>().ToListAsync();

    [Fact]
    public async Task EventsBatch_MessagesRepeatedWithinAndAcrossBatches_WrittenTogetherAndEachReachesTheJourneysOnce()
    {
        var first = Enumerable.Range(0, 240).Select(i => Page($"m-{i}", $"u-{i % 40}")).ToList();
        var repeatedWithin = first.Take(10).ToList();
        const string anonymous = """{"type":"page","messageId":"anon-1","anonymousId":"a-1","timestamp":"2026-11-24T01:00:00Z"}""";
        const string invalid = """{"type":"track","messageId":"bad-1","userId":"u-1"}""";
        var second = first.Skip(100).Take(20).Concat(Enumerable.Range(240, 5).Select(i => Page($"m-{i}", $"u-{i % 40}"))).ToList();

        var results = await SendBatchAsync(BatchOf([.. first, .. repeatedWithin, anonymous, invalid]));
        var written = await TakeAllAsync(StorageNames.IngestBatchesQueue);
        var rowsBeforeProcessing = (await EventRowsAsync()).Count;
        var again = await SendBatchAsync(BatchOf(second));
        written.AddRange(await TakeAllAsync(StorageNames.IngestBatchesQueue));

        // Mixed results, one per message and in order; the first of each messageId is the one accepted.
        Assert.Equal(first.Count + 12, results.Count);
        Assert.All(results.Take(240), r => Assert.Equal("accepted", r.Status));
        Assert.All(results.Skip(240).Take(10), r => Assert.Equal("duplicate", r.Status));
        Assert.Equal([("anon-1", "ignored"), ("bad-1", "invalid")], results.Skip(250));
        Assert.Equal(Enumerable.Repeat("duplicate", 20).Concat(Enumerable.Repeat("accepted", 5)), again.Select(r => r.Status));

        // Group commit: nothing stored directly; a few intake messages, none of more than a write's worth.
        Assert.Equal(0, rowsBeforeProcessing);
        var batches = written.ConvertAll(text => JsonSerializer.Deserialize<IngestBatchMessage>(text, NudgeJson.Options)!);
        Assert.InRange(batches.Count, 4, 12);
        Assert.All(batches, b => Assert.InRange(b.ReadEntries().Count, 1, GroupCommit.MaxEntriesPerWrite));

        // Processed as the IngestBatches trigger would: every event handed over once.
        var handler = _app.Services.GetRequiredService<IngestBatchHandler>();
        foreach (var batch in batches)
        {
            await handler.HandleAsync(batch, CancellationToken.None);
        }

        var dispatched = (await TakeAllAsync(StorageNames.JourneyEventsQueue))
            .SelectMany(text => JsonSerializer.Deserialize<JourneyEventsMessage>(text, NudgeJson.Options)!.Events.Select(e => e.EventId)).ToList();
        var expected = Enumerable.Range(0, 245).Select(i => EventsApi.EventIdFor(IngestSourcesTests.EventsSource, $"m-{i}")).Order();
        Assert.Equal(expected, dispatched.Order());

        // Each event row keeps the message's own JSON as its raw body.
        var row = (await EventRowsAsync()).Single(r => r.RowKey == TableKey.Escape(EventsApi.EventIdFor(IngestSourcesTests.EventsSource, "m-7")));
        Assert.Equal(Page("m-7", "u-7"), row.GetBinaryData("RawBody").ToString());
    }

    [Fact]
    public async Task EventsBatch_IntakeCannotStore_Answers503WithRetryAfter_TheRetriedBatchIsAcceptedWhole()
    {
        var intake = TestStorage.Clients().Queues.GetQueueClient(_app.Names.Queue(StorageNames.IngestBatchesQueue));
        var body = BatchOf(Enumerable.Range(0, 30).Select(i => Page($"r-{i}", "u-503")));
        await intake.DeleteAsync(); // the storage refuses the write: this service's fault, never the sender's

        using var refused = await _app.Client.SendAsync(IngestSourcesTests.Events("/api/events/batch", body));
        await intake.CreateAsync();
        var retried = await SendBatchAsync(body);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("send the whole batch again", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.All(retried, r => Assert.Equal("accepted", r.Status));
        var stored = (await TakeAllAsync(StorageNames.IngestBatchesQueue))
            .SelectMany(text => JsonSerializer.Deserialize<IngestBatchMessage>(text, NudgeJson.Options)!.ReadEntries()).Select(e => e.Event.EventId);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => EventsApi.EventIdFor(IngestSourcesTests.EventsSource, $"r-{i}")).Order(), stored.Order());
        Assert.Empty(await EventRowsAsync());
    }
}
