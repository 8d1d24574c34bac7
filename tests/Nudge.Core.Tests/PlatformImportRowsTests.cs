using System.Text;
using Nudge.Core.Imports;

namespace Nudge.Core.Tests;

/// <summary>Platform records read through the webhooks' mappings into import rows, and a platform import's progress.</summary>
public class PlatformImportRowsTests
{
    private static ReadOnlyMemory<byte> Json(string json) => Encoding.UTF8.GetBytes(json);

    [Fact]
    public void Customer_ShopifyRecordWithEmailConsentOnly_StatesThatMediumOnly_AsOfItsUpdate()
    {
        var (row, asOf, problem) = PlatformImportRows.Customer("shopify", "s.myshopify.com", Json(
            """{"id":"7","email":"a@example.com","created_at":"2020-01-01T00:00:00Z","updated_at":"2021-01-01T00:00:00Z","email_marketing_consent":{"state":"subscribed"}}"""));

        Assert.Null(problem);
        Assert.Equal(("7", "a@example.com", true, (bool?)null, (bool?)null), (row!.CustomerId, row.Email, row.EmailConsent, row.SmsConsent, row.NightConsent));
        Assert.Equal((new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero)), (row.CreatedAt!.Value, asOf));
    }

    [Fact]
    public void Customer_Cafe24MemberFlags_AreTheShopsConsentRecord()
    {
        var (row, _, _) = PlatformImportRows.Customer("cafe24", "mall", Json(
            """{"member_id":"kim","email":"k@example.com","cellphone":"010-1111-2222","news_mail":"F","sms":"T","created_date":"2022-02-02T10:00:00+09:00"}"""));

        Assert.Equal(("kim", "010-1111-2222", false, true), (row!.CustomerId, row.Phone, row.EmailConsent, row.SmsConsent));
    }

    [Theory]
    [InlineData("woocommerce", """{"id":5,"status":"completed","customer_id":0,"date_created_gmt":"2022-01-01T00:00:00","total":"1"}""", "guest order without a customer account")]
    [InlineData("shopify", """{"id":"9","created_at":"2022-01-01T00:00:00Z","customer":null}""", "guest without a customer account")]
    public void Order_Guest_IsSkippedWithTheReason(string platform, string record, string reason)
    {
        var (row, problem) = PlatformImportRows.Order(platform, "shop", Json(record));

        Assert.Equal((null, reason), (row, problem));
    }

    [Fact]
    public void Order_WooCommerce_KeepsItsIdTimeAndTotal()
    {
        var (row, _) = PlatformImportRows.Order("woocommerce", "shop", Json(
            """{"id":901,"status":"processing","currency":"KRW","total":"39000","customer_id":3,"date_created_gmt":"2022-05-01T10:00:00"}"""));

        Assert.Equal(new ImportedOrder("901", "3", new DateTimeOffset(2022, 5, 1, 10, 0, 0, TimeSpan.Zero), 39000m, "KRW"), row);
    }

    [Fact]
    public void Progress_PlatformImport_ShareOfTheCountAndEtaAtThePaceSoFar()
    {
        var started = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var state = new ImportState
        {
            Id = "customers-x", Kind = ImportKinds.Customers, Platform = "shopify", ShopDomain = "s", Source = ImportSources.Platform, File = "", Bytes = 0, Columns = [],
            UploadedAt = started, StartedAt = started, Status = ImportStatus.Running, RecordsRead = 50, Applied = 50, RecordsExpected = 200,
        };

        var running = ImportProgress.Of(state, started.AddSeconds(10));
        var unknownCount = ImportProgress.Of(state with { RecordsExpected = null }, started.AddSeconds(10));
        var pastTheCount = ImportProgress.Of(state with { RecordsRead = 210 }, started.AddSeconds(10));

        Assert.Equal((25.0, 30.0), (running.Percent, running.EtaSeconds!.Value));
        Assert.Equal((0.0, (double?)null), (unknownCount.Percent, unknownCount.EtaSeconds));
        Assert.Equal(99.9, pastTheCount.Percent); // the platform's count is an estimate: 100 only when the listing ended
    }
}
