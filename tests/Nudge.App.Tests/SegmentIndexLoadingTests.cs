using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Segments;

namespace Nudge.App.Tests;

/// <summary>The segment index is loaded when a request first needs it, not at every start: an instance that only works queues never reads the profile table for it.</summary>
public class SegmentIndexLoadingTests
{
    [Fact]
    public async Task Start_DoesNotLoadTheIndex_FirstSizeLoadsIt_AndCountsWhatWasStoredBefore()
    {
        var prefix = Nudge.Testing.TestStorage.NewPrefix();
        await using (var earlier = await NudgeTestApp.StartAsync(prefix: prefix))
        {
            var signup = await earlier.PostWebhookAsync("customers/create", NudgeTestApp.Customer(7101));
            Assert.Equal(HttpStatusCode.OK, signup.StatusCode);
            await earlier.WaitForQueuesToDrainAsync(deliveries: false);
        }

        await using var app = await NudgeTestApp.StartAsync(prefix: prefix);
        var (index, loader) = (app.Services.GetRequiredService<SegmentIndex>(), app.Services.GetRequiredService<SegmentIndexLoader>());
        var loadedAtStart = index.IsLoaded || loader.Demanded.IsCompleted;

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/segments/marketing-consent/size");
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        var size = await (await app.Client.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.False(loadedAtStart);
        Assert.True(index.IsLoaded);
        Assert.Equal((1, 1), (size.GetProperty("members").GetInt32(), size.GetProperty("customers").GetInt32()));
    }
}
