using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// One contract for the frequency-cap ledger (<see cref="IFrequencyCapLedger"/>), run against the table on Azurite and
/// the in-memory ledger handler tests use: slots are taken atomically up to the caps, in the customer's time zone,
/// once per delivery id, and an erasure removes them.
/// </summary>
public sealed class FrequencyCapLedgerContractTests
{
    private static readonly TimeZoneInfo Seoul = Pipeline.Seoul;

    /// <summary>A Tuesday 10:00 in Seoul.</summary>
    private static readonly DateTimeOffset Morning = Pipeline.Morning;

    private static readonly CrossJourneyRules OneEmailADay = Rules(ChannelNames.Email, new FrequencyCap(1, null));

    public static TheoryData<string> Ledgers() => new() { "table", "in-memory" };

    private static async Task<IFrequencyCapLedger> LedgerAsync(string ledger)
    {
        if (ledger == "in-memory")
        {
            return new InMemoryFrequencyCapLedger();
        }

        var clients = TestStorage.Clients();
        var names = new StorageNames(TestStorage.NewPrefix());
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        return new TableFrequencyCapLedger(clients.Tables, names);
    }

    private static CrossJourneyRules Rules(string channel, FrequencyCap cap) => new() { Caps = new Dictionary<string, FrequencyCap> { [channel] = cap } };

    private static CustomerKey NewCustomer() => new("shopify", "c-" + Guid.NewGuid().ToString("N")[..8]);

    private static Task<ReachedCap?> ReserveAsync(IFrequencyCapLedger ledger, CustomerKey customer, string deliveryId, DateTimeOffset at, CrossJourneyRules? rules = null, string channel = ChannelNames.Email) =>
        ledger.ReserveAsync(new CapRequest(customer, channel, MessageClass.Ad, deliveryId, at, rules ?? OneEmailADay, Seoul), CancellationToken.None);

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Reserve_UpToTheCap_HoldsSlots_ThenRefusesWithTheCapAndWhenItLifts(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();

        var first = await ReserveAsync(ledger, customer, "d1", Morning);
        var second = await ReserveAsync(ledger, customer, "d2", Morning.AddHours(3));
        var nextDay = await ReserveAsync(ledger, customer, "d3", Morning.AddDays(1));

        Assert.Null(first);
        Assert.Equal(new ReachedCap(ChannelNames.Email, 1, "day", new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.FromHours(9))), second);
        Assert.Null(nextDay);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Reserve_SameDeliveryAgain_IsGrantedAgain_CountsOnce_AndIsNeverRefusedByItsOwnSlot(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        var twoADay = Rules(ChannelNames.Email, new FrequencyCap(2, null));

        var first = await ReserveAsync(ledger, customer, "d1", Morning, twoADay);
        var again = await ReserveAsync(ledger, customer, "d1", Morning, twoADay);
        var other = await ReserveAsync(ledger, customer, "d2", Morning, twoADay);
        var overCap = await ReserveAsync(ledger, customer, "d3", Morning, twoADay);
        var firstOnceMore = await ReserveAsync(ledger, customer, "d1", Morning, twoADay);

        Assert.Equal((null, null, null), (first, again, other));
        Assert.NotNull(overCap);
        Assert.Null(firstOnceMore);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Reserve_ManyDeliveriesAtOnce_GrantsExactlyTheCap(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        var threeADay = Rules(ChannelNames.Email, new FrequencyCap(3, null));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => ReserveAsync(ledger, customer, $"d{i}", Morning, threeADay)));

        Assert.Equal(3, answers.Count(a => a is null));
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Reserve_CountsByTheCustomersLocalDayAndWeek_PerChannel(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        var lateMonday = new DateTimeOffset(2026, 11, 23, 23, 30, 0, TimeSpan.FromHours(9));
        var earlyTuesday = lateMonday.AddHours(1); // the same UTC day, the next day in Seoul
        var oneSmsAWeek = Rules(ChannelNames.Sms, new FrequencyCap(null, 1));

        var monday = await ReserveAsync(ledger, customer, "d1", lateMonday);
        var tuesday = await ReserveAsync(ledger, customer, "d2", earlyTuesday);
        var sms = await ReserveAsync(ledger, customer, "s1", earlyTuesday, oneSmsAWeek, ChannelNames.Sms);
        var smsSunday = await ReserveAsync(ledger, customer, "s2", new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.FromHours(9)), oneSmsAWeek, ChannelNames.Sms);

        Assert.Equal((null, null, null), (monday, tuesday, sms));
        Assert.Equal(new ReachedCap(ChannelNames.Sms, 1, "week", new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.FromHours(9))), smsSunday);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Reserve_PrunesSlotsPastTheLookback(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        await ReserveAsync(ledger, customer, "d1", Morning);
        await ReserveAsync(ledger, customer, "d2", Morning + FrequencyCaps.Lookback + TimeSpan.FromDays(1));

        // Only a record that dropped d1 when d2 was written lets a (late) delivery of d1's day through.
        var late = await ReserveAsync(ledger, customer, "d3", Morning);

        Assert.Null(late);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task DeleteForCustomer_RemovesEveryChannelsRecord_KeepsOtherCustomers(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var (erased, kept) = (NewCustomer(), NewCustomer());
        var oneSmsADay = Rules(ChannelNames.Sms, new FrequencyCap(1, null));
        await ReserveAsync(ledger, erased, "d1", Morning);
        await ReserveAsync(ledger, erased, "s1", Morning, oneSmsADay, ChannelNames.Sms);
        await ReserveAsync(ledger, kept, "k1", Morning);

        var deleted = await ledger.DeleteForCustomerAsync(erased, CancellationToken.None);

        Assert.Equal(2, deleted);
        Assert.Null(await ReserveAsync(ledger, erased, "d2", Morning));
        Assert.NotNull(await ReserveAsync(ledger, kept, "k2", Morning));
    }
}
