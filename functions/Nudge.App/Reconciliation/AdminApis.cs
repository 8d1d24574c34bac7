namespace Nudge.App.Reconciliation;

/// <summary>The platforms' Admin API clients share one named HttpClient (30 s timeout), created per request by the factory.</summary>
public static class AdminApis
{
    public const string HttpClientName = "admin-api";
}
