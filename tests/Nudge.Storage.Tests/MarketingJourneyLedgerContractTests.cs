using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// One contract for the marketing journey ledger (<see cref="IMarketingJourneyLedger"/>), run against the table on
/// Azurite and the in-memory ledger: slots are admitted atomically up to the limit, once per slot; an admission counts
/// while its instance runs, or for the grace until its instance shows; instances running without an admission count
/// too; an erasure removes the record.
/// </summary>
public sealed class MarketingJourneyLedgerContractTests
{
    private static readonly DateTimeOffset Morning = Pipeline.Morning;

    private static readonly JourneyDefinition Welcome = JourneyCatalog.Welcome;
    private static readonly JourneyDefinition Browse = JourneyCatalog.BrowseAbandonment;
    private static readonly JourneyDefinition WinBack = JourneyCatalog.WinBack;

    public static TheoryData<string> Ledgers() => new() { "table", "in-memory" };

    private static async Task<IMarketingJourneyLedger> LedgerAsync(string ledger)
    {
        if (ledger == "in-memory")
        {
            return new InMemoryMarketingJourneyLedger();
        }

        var clients = TestStorage.Clients();
        var names = new StorageNames(TestStorage.NewPrefix());
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        return new TableMarketingJourneyLedger(clients.Tables, names);
    }

    private static CustomerKey NewCustomer() => new("shopify", "c-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The customer's instance of a journey as its start at <paramref name="startedAt"/> saved it.</summary>
    private static JourneyInstance Running(CustomerKey customer, JourneyDefinition journey, DateTimeOffset startedAt) =>
        JourneyInterpreter.Entering(journey, customer, startedAt);

    private static JourneyInstance Ended(CustomerKey customer, JourneyDefinition journey, DateTimeOffset startedAt) =>
        Running(customer, journey, startedAt) with { Status = InstanceStatus.Completed, EndedAt = startedAt.AddHours(1) };

    private static Task<string?> AdmitAsync(
        IMarketingJourneyLedger ledger, CustomerKey customer, JourneyDefinition journey, DateTimeOffset at, int limit = 1, params JourneyInstance[] listed) =>
        ledger.AdmitAsync(new MarketingAdmission(customer, journey.Id, at, limit, listed), CancellationToken.None);

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Admit_UpToTheLimit_ThenRefusesWithTheEntryRulesReason(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();

        var first = await AdmitAsync(ledger, customer, Welcome, Morning, limit: 2);
        var second = await AdmitAsync(ledger, customer, Browse, Morning, limit: 2);
        var third = await AdmitAsync(ledger, customer, WinBack, Morning, limit: 2);

        Assert.Equal((null, null), (first, second));
        Assert.Equal("already in 2 marketing journeys (cap 2)", third);
        Assert.Equal(JourneyInterpreter.RefusedEntry(WinBack, new CustomerContext(Pipeline.Seoul, false, null, null, new CrossJourneyRules { MaxConcurrentMarketingJourneys = 2 }), 2), third);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Admit_SameSlotAgain_IsAdmittedAgain_CountsOnce_EvenAtTheLimit(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();

        var first = await AdmitAsync(ledger, customer, Welcome, Morning);
        var again = await AdmitAsync(ledger, customer, Welcome, Morning.AddSeconds(5));
        var savedThenAgain = await AdmitAsync(ledger, customer, Welcome, Morning.AddSeconds(10), listed: Running(customer, Welcome, Morning));
        var other = await AdmitAsync(ledger, customer, Browse, Morning.AddSeconds(10), listed: Running(customer, Welcome, Morning));

        Assert.Equal((null, null, null), (first, again, savedThenAgain));
        Assert.NotNull(other);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Admit_ManySlotsAtOnce_AdmitsExactlyTheLimit(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            ledger.AdmitAsync(new MarketingAdmission(customer, $"journey-{i}", Morning, 3, []), CancellationToken.None)));

        Assert.Equal(3, answers.Count(a => a is null));
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Admit_AnAdmissionWhoseInstanceRuns_CountsPastTheGrace_AndNoLongerOnceItEnded(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        await AdmitAsync(ledger, customer, Welcome, Morning);
        var later = Morning + AdmissionDecision.Grace + TimeSpan.FromHours(1);

        var whileRunning = await AdmitAsync(ledger, customer, Browse, later, listed: Running(customer, Welcome, Morning));
        var afterItEnded = await AdmitAsync(ledger, customer, Browse, later, listed: Ended(customer, Welcome, Morning));

        Assert.NotNull(whileRunning);
        Assert.Null(afterItEnded);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Admit_AnAdmissionNotListedYet_CountsForTheGrace_ThenIsPruned(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        await AdmitAsync(ledger, customer, Welcome, Morning);

        var withinGrace = await AdmitAsync(ledger, customer, Browse, Morning + AdmissionDecision.Grace - TimeSpan.FromSeconds(1));
        var pastGrace = await AdmitAsync(ledger, customer, Browse, Morning + AdmissionDecision.Grace + TimeSpan.FromSeconds(1));
        // Only a record that dropped welcome when browse was written refuses welcome now (browse holds the one place).
        var welcomeAgain = await AdmitAsync(ledger, customer, Welcome, Morning + AdmissionDecision.Grace + TimeSpan.FromSeconds(2));

        Assert.Equal("already in 1 marketing journeys (cap 1)", withinGrace);
        Assert.Null(pastGrace);
        Assert.NotNull(welcomeAgain);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Admit_AReEntryWhoseSlotStillHoldsTheEndedEntryBefore_CountsForTheGrace(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        var entryBefore = Ended(customer, Welcome, Morning.AddDays(-3));

        var reentry = await AdmitAsync(ledger, customer, Welcome, Morning, listed: entryBefore);
        var other = await AdmitAsync(ledger, customer, Browse, Morning.AddSeconds(1), listed: entryBefore);

        Assert.Null(reentry);
        Assert.NotNull(other);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task Admit_ARunningMarketingInstanceNeverAdmitted_Counts_OthersDoNot(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var customer = NewCustomer();
        var informational = Running(customer, JourneyCatalog.ConsentReconfirmation, Morning);

        var besideInformational = await AdmitAsync(ledger, new CustomerKey(customer.Platform, customer.CustomerId + "-b"), Browse, Morning, listed: informational);
        var besideMarketing = await AdmitAsync(ledger, customer, Browse, Morning, listed: Running(customer, Welcome, Morning.AddDays(-1)));

        Assert.Null(besideInformational);
        Assert.Equal("already in 1 marketing journeys (cap 1)", besideMarketing);
    }

    [Theory, MemberData(nameof(Ledgers))]
    public async Task DeleteForCustomer_RemovesTheRecord_KeepsOtherCustomers(string kind)
    {
        var ledger = await LedgerAsync(kind);
        var (erased, kept) = (NewCustomer(), NewCustomer());
        await AdmitAsync(ledger, erased, Welcome, Morning);
        await AdmitAsync(ledger, kept, Welcome, Morning);

        var deleted = await ledger.DeleteForCustomerAsync(erased, CancellationToken.None);

        Assert.Equal(1, deleted);
        Assert.Null(await AdmitAsync(ledger, erased, Browse, Morning));
        Assert.NotNull(await AdmitAsync(ledger, kept, Browse, Morning));
    }
}
