namespace Nudge.Testing;

/// <summary>
/// The Shopify <c>customers/create</c> body (~830 bytes) both ingest benchmarks send or process, so the load run and
/// the BenchmarkDotNet run measure the same delivery.
/// </summary>
public static class BenchDeliveries
{
    public static string CustomerJson(int i) =>
        $$"""{"id":{{1_000_000 + i}},"email":"bench{{i}}@example.com","created_at":"2026-11-24T10:00:00+09:00","updated_at":"2026-11-24T10:00:00+09:00","first_name":"Bench","last_name":"Customer","orders_count":0,"state":"enabled","total_spent":"0.00","last_order_id":null,"note":null,"verified_email":true,"multipass_identifier":null,"tax_exempt":false,"tags":"bench, load-test","last_order_name":null,"currency":"KRW","phone":"+8210{{i:D8}}","addresses":[],"accepts_marketing":true,"email_marketing_consent":{"state":"subscribed","opt_in_level":"single_opt_in","consent_updated_at":"2026-11-24T10:00:00+09:00"},"sms_marketing_consent":{"state":"subscribed","opt_in_level":"single_opt_in","consent_updated_at":"2026-11-24T10:00:00+09:00","consent_collected_from":"SHOPIFY"},"admin_graphql_api_id":"gid://shopify/Customer/{{1_000_000 + i}}","default_address":null}""";
}
