using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Nudge.Core.Consent;
using Nudge.Core.Imports;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.Benchmarks;

/// <summary>
/// CSV import on Azurite against a bare batched insert of the same rows in the same run: rows per second and storage
/// requests per row. The import: upload to a blob, read back in slices, validate each row, fold it into its profile
/// (a customers import inserts first; an orders import reads and replaces) and checkpoint every 500 rows. The
/// baseline: the same rows as entities of one property, 100 to a transaction, nothing read.
/// </summary>
public static class ImportRun
{
    public static async Task RunAsync(string connection, int customers, int ordersPerCustomer, TextWriter output)
    {
        long requests = 0;
        var observer = new StorageObserver((_, _) => Interlocked.Increment(ref requests));
        var clients = StorageClients.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connection,
        }).Build(), "AzureWebJobsStorage", observer);
        var names = new StorageNames("b" + Guid.NewGuid().ToString("N")[..8]);
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);

        var random = new Random(13);
        var start = new DateTimeOffset(2023, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var customerCsv = new StringBuilder("customer_id,email,phone,first_name,created_at,email_marketing_consent,sms_marketing_consent,last_login_at,points\n");
        var orderCsv = new StringBuilder("order_id,customer_id,created_at,total,currency\n");
        var order = 0;
        for (var c = 0; c < customers; c++)
        {
            var signup = start.AddMinutes(random.Next(0, 60 * 24 * 900));
            customerCsv.Append(CultureInfo.InvariantCulture,
                $"{c},c{c}@example.com,+8210{c:D8},Min,{signup:O},{(random.Next(2) == 0 ? "subscribed" : "unsubscribed")},subscribed,{signup.AddDays(random.Next(0, 300)):O},{random.Next(0, 20_000)}\n");
            for (var o = 0; o < ordersPerCustomer; o++)
            {
                orderCsv.Append(CultureInfo.InvariantCulture, $"o{order++},{random.Next(customers)},{signup.AddDays(random.Next(0, 400)):O},{random.Next(1, 100) * 1000},KRW\n");
            }
        }

        var clock = new VirtualClock(TimeProvider.System, new ClockAnchor(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1));
        var profiles = new TableProfileStore(clients.Tables, names);
        var handler = new ImportHandler(new TableImportStore(clients.Tables, names), new BlobImportFiles(clients.Blobs, names), new StorageWorkQueue(clients.Queues, names, clock),
            new ProfileUpdater(profiles, new TableConsentLedger(clients.Tables, names)), new PipelineSettings(TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul")),
            new ImportSettings(ImportSettings.DefaultMaxUploadBytes), clock);

        output.WriteLine($"Import benchmark: {customers:N0} customers ({customerCsv.Length / 1024.0 / 1024:N1} MiB), {order:N0} orders ({orderCsv.Length / 1024.0 / 1024:N1} MiB), Azurite");
        output.WriteLine("| side | rows | seconds | rows/s | storage requests | requests/row |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        async Task<(double Seconds, long Requests)> MeasureAsync(Func<Task> work)
        {
            var before = Interlocked.Read(ref requests);
            var watch = Stopwatch.StartNew();
            await work();
            return (watch.Elapsed.TotalSeconds, Interlocked.Read(ref requests) - before);
        }

        void Row(string side, long rows, (double Seconds, long Requests) m) =>
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {side} | {rows:N0} | {m.Seconds:N1} | {rows / m.Seconds:N0} | {m.Requests:N0} | {(double)m.Requests / rows:N2} |"));

        var baselineTable = clients.Tables.GetTableClient(names.Table("bareinsert"));
        await baselineTable.CreateIfNotExistsAsync();
        var bareCustomers = await MeasureAsync(() => BareInsertAsync(baselineTable, "c", customerCsv));
        Row("bare batched insert (customers)", customers, bareCustomers);
        var importCustomers = await MeasureAsync(() => ImportAsync(handler, ImportKinds.Customers, customerCsv));
        Row("import (customers)", customers, importCustomers);
        var bareOrders = await MeasureAsync(() => BareInsertAsync(baselineTable, "o", orderCsv));
        Row("bare batched insert (orders)", order, bareOrders);
        var importOrders = await MeasureAsync(() => ImportAsync(handler, ImportKinds.Orders, orderCsv));
        Row("import (orders)", order, importOrders);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ratios (import / bare): customers {importCustomers.Seconds / bareCustomers.Seconds:N1}× the time, {(double)importCustomers.Requests / bareCustomers.Requests:N1}× the requests; orders {importOrders.Seconds / bareOrders.Seconds:N1}× the time, {(double)importOrders.Requests / bareOrders.Requests:N1}× the requests"));
    }

    private static async Task ImportAsync(ImportHandler handler, string kind, StringBuilder csv)
    {
        var accepted = await handler.StartAsync(kind, "shopify", "bench.myshopify.com", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CancellationToken.None);
        var id = ((ImportAccepted.Started)accepted).State.Id;
        ImportState? state;
        do
        {
            state = await handler.RunSliceAsync(id, CancellationToken.None);
        }
        while (state!.Status != ImportStatus.Completed);

        if (state.Skipped > 0)
        {
            throw new InvalidOperationException($"{state.Skipped} rows skipped: {state.Errors[0].Problem}");
        }
    }

    /// <summary>The rows as they are, 100 to a transaction (one partition each), 16 transactions at a time.</summary>
    private static async Task BareInsertAsync(TableClient table, string prefix, StringBuilder csv)
    {
        var lines = csv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        var batches = lines.Select((line, i) => (line, i)).Chunk(100).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (batch, ct) =>
        {
            var partition = $"{prefix}{batch[0].i / 100}";
            await table.SubmitTransactionAsync(batch.Select(row => new TableTransactionAction(TableTransactionActionType.Add,
                new TableEntity(partition, row.i.ToString("D9", CultureInfo.InvariantCulture)) { ["Row"] = row.line })), ct);
        });
    }
}
