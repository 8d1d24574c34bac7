using Nudge.Core.Segments;

namespace Nudge.App.Hosting;

/// <summary>
/// Loads the segment index from storage when a request first needs it (every instance holds its own; an instance that
/// only runs queue work never loads it), in the background, retrying while storage cannot answer.
/// </summary>
public sealed partial class SegmentIndexStartup(SegmentIndexLoader loader, ILogger<SegmentIndexStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await loader.Demanded.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await loader.LoadAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogLoadFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the segment index failed; trying again")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);
}
