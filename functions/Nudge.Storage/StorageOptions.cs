namespace Nudge.Storage;

/// <summary>Bound from section <c>Nudge:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Nudge:Storage";

    /// <summary>
    /// Prefix for every table, queue and container name, so tests (and several local environments) can share one
    /// storage account. Must stay empty under the Functions host, whose queue triggers use the names in the [QueueTrigger] attributes.
    /// </summary>
    public string Prefix { get; set; } = "";

    /// <summary>Name of the connection setting, as in the queue triggers' Connection.</summary>
    public string Connection { get; set; } = "AzureWebJobsStorage";
}
