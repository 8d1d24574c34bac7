using System.Text;
using Nudge.Core.Customers;
using Nudge.Core.Imports;

namespace Nudge.Core.Tests;

/// <summary>Reading import files: CSV records with their lines and resumable offsets, and rows checked whole.</summary>
public class CsvImportTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    private static async Task<List<CsvRecord>> ReadAllAsync(byte[] bytes, long offset = 0, long line = 1)
    {
        var reader = new CsvReader(new MemoryStream(bytes, (int)offset, bytes.Length - (int)offset), offset, line);
        var records = new List<CsvRecord>();
        while (await reader.ReadAsync(CancellationToken.None) is { } record)
        {
            records.Add(record);
        }

        return records;
    }

    [Fact]
    public async Task Read_QuotesLineBreaksCrLfAndBom()
    {
        var text = "\uFEFFcustomer_id,first_name\r\n1,\"Kim, \"\"Min\"\"\"\r\n\r\n2,\"two\nlines\"\n3,민지";

        var records = await ReadAllAsync(Encoding.UTF8.GetBytes(text));

        Assert.Equal([1L, 2, 4, 6], records.Select(r => r.Line));
        Assert.Equal(["customer_id", "first_name"], records[0].Fields);
        Assert.Equal(["1", "Kim, \"Min\""], records[1].Fields);
        Assert.Equal(["2", "two\nlines"], records[2].Fields);
        Assert.Equal(["3", "민지"], records[3].Fields);
    }

    [Fact]
    public async Task Read_FromAnyRecordsOffset_ContinuesWithTheSameRecords()
    {
        var bytes = Encoding.UTF8.GetBytes("a,b\n1,\"x\ny\"\r\n2,z\n\n3,w");
        var reader = new CsvReader(new MemoryStream(bytes));
        var all = new List<(CsvRecord Record, long Offset, long Line)>();
        while (await reader.ReadAsync(CancellationToken.None) is { } record)
        {
            all.Add((record, reader.Offset, reader.Line));
        }

        for (var i = 0; i < all.Count - 1; i++)
        {
            var rest = await ReadAllAsync(bytes, all[i].Offset, all[i].Line);
            Assert.Equal(all.Skip(i + 1).Select(r => (r.Record.Line, string.Join("|", r.Record.Fields))), rest.Select(r => (r.Line, string.Join("|", r.Fields))));
        }
    }

    [Fact]
    public async Task Read_MalformedRecords_AreErrorsAndReadingGoesOn()
    {
        var longField = new string('x', CsvReader.MaxRecordBytes + 10);
        var text = $"a,b\n1,\"open\"junk\n2,{longField}\n{string.Join(",", Enumerable.Range(0, 70))}\n3,ok\n4,\"never closed";

        var records = await ReadAllAsync(Encoding.UTF8.GetBytes(text));

        Assert.Equal([null, "text after a closing quote", $"the record is longer than {CsvReader.MaxRecordBytes} bytes", "more than 64 fields", null, "a quoted field is not closed before the end of the file"],
            records.Select(r => r.Error));
        Assert.Equal(["3", "ok"], records[4].Fields);
        Assert.Equal(5, records[4].Line);
    }

    [Theory]
    [InlineData("customers", "email,phone", "the header needs customer_id")]
    [InlineData("customers", "customer_id,emial", "column 2 ('emial') is not one of")]
    [InlineData("customers", "customer_id,email,EMAIL", "column 'email' is named twice")]
    [InlineData("orders", "order_id,customer_id", "the header needs created_at")]
    public void Header_Invalid_SaysWhy(string kind, string header, string problem)
    {
        var (parsed, error) = ImportHeader.Parse(kind, header.Split(','));

        Assert.Null(parsed);
        Assert.StartsWith(problem, error);
    }

    [Fact]
    public void Customer_FullRow_IsRead_TimesWithoutOffsetInTheRowsZone()
    {
        var (header, _) = ImportHeader.Parse(ImportKinds.Customers, ImportHeader.CustomerColumns);

        var (row, error) = header!.ParseCustomer(
            ["c1", "a@example.com", "+82 10-1234-5678", "Min", "2025-01-02 09:30:00", "subscribed", "Unsubscribed", "", "2026-11-01T10:00:00Z", "5000", "America/New_York"], Seoul);

        Assert.Null(error);
        Assert.Equal(new ImportedCustomer("c1", "a@example.com", "+82 10-1234-5678", "Min", new DateTimeOffset(2025, 1, 2, 9, 30, 0, TimeSpan.FromHours(-5)),
            true, false, null, new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero), 5000, "America/New_York"), row);
    }

    [Theory]
    [InlineData("", "a@example.com", "2025-01-02", "subscribed", "10", "customer_id is required")]
    [InlineData("c1", "not-an-email", "2025-01-02", "subscribed", "10", "email is not an email address")]
    [InlineData("c1", "a@example.com", "yesterday", "subscribed", "10", "created_at is not an ISO 8601 time")]
    [InlineData("c1", "a@example.com", "2025-01-02", "yes", "10", "email_marketing_consent must be subscribed or unsubscribed")]
    [InlineData("c1", "a@example.com", "2025-01-02", "subscribed", "-5", "points must be a whole number from 0 to 10^12")]
    public void Customer_BadColumn_RowIsRefusedWhole(string id, string email, string created, string consent, string points, string problem)
    {
        var (header, _) = ImportHeader.Parse(ImportKinds.Customers, ["customer_id", "email", "created_at", "email_marketing_consent", "points"]);

        var (row, error) = header!.ParseCustomer([id, email, created, consent, points], Seoul);

        Assert.Null(row);
        Assert.Equal(problem, error);
    }

    [Fact]
    public void Order_Rows_NeedTheirIdsTimeAndACurrencyWithATotal()
    {
        var (header, _) = ImportHeader.Parse(ImportKinds.Orders, ImportHeader.OrderColumns);

        Assert.Equal(new ImportedOrder("o1", "c1", new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.FromHours(9)), 39000m, "KRW"),
            header!.ParseOrder(["o1", "c1", "2026-03-01T12:00:00", "39000", "krw"], Seoul).Row);
        Assert.Equal("currency is required with a total", header.ParseOrder(["o1", "c1", "2026-03-01", "39000", ""], Seoul).Error);
        Assert.Equal("created_at is required", header.ParseOrder(["o1", "c1", "", "", ""], Seoul).Error);
        Assert.Equal("has 3 fields, the header 5", header.ParseOrder(["o1", "c1", "2026-03-01"], Seoul).Error);
    }

    [Fact]
    public void ApplyImported_NewestWinsAgainstWebhooks_AndIsIdempotent()
    {
        var key = new CustomerKey("shopify", "c1");
        var uploadedAt = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var webhookProfile = new CustomerProfile
        {
            Key = key, Email = "newer@example.com", ContactUpdatedAt = uploadedAt.AddHours(1), SignedUpAt = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero),
            Consent = new MarketingConsent(true, true, false),
        };
        var row = new ImportedCustomer("c1", "older@example.com", null, null, new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), false, null, null,
            new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), 2500, null);

        var once = ProfileUpdates.ApplyImported(webhookProfile, key, "shop", row, uploadedAt);
        var twice = ProfileUpdates.ApplyImported(once, key, "shop", row, uploadedAt);

        Assert.Equal(("newer@example.com", true), (once.Email, once.Consent.Email)); // the webhook is newer than the export
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), once.SignedUpAt); // the earliest signup
        Assert.Equal((2500L, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)), (once.PointsBalance!.Value, once.LastLoginAt!.Value));
        Assert.Equal(once, twice);

        var fresh = ProfileUpdates.ApplyImported(null, key, "shop", row, uploadedAt);
        Assert.Equal(("older@example.com", false, "shop"), (fresh.Email, fresh.Consent.Email, fresh.ShopDomain));
    }
}
