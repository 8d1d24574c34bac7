namespace Nudge.Core.Customers;

/// <summary>Identifies a customer across the pipeline: the source platform and the platform's customer id.</summary>
public readonly record struct CustomerKey(string Platform, string CustomerId)
{
    public override string ToString() => $"{Platform}:{CustomerId}";
}
