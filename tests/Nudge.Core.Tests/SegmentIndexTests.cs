using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Segments;

namespace Nudge.Core.Tests;

/// <summary>The segment index decides exactly as the conditions do over each profile's facts.</summary>
public class SegmentIndexTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 1, 35, 0, TimeSpan.Zero);

    private static readonly string[] DateFacts = ["profile.signedUpAt", "profile.firstOrderAt", "profile.lastOrderAt", "profile.lastLoginAt", "profile.lastSeenAt"];
    private static readonly string[] OtherFacts =
        ["profile.points", "profile.ordersCount", "profile.hasOrdered", "profile.emailConsent", "profile.smsConsent", "profile.nightConsent", "profile.hasEmail", "profile.shop", "profile.cartValue"];

    private static readonly string[] Values =
        ["now", "now-P1D", "now-P14D", "now-P90D", "now+PT2H", "now-P1M", "now-14D", "2026-11-01T00:00:00Z", "2026-11-01", "true", "false", "True", "0", "1", "2000", "5000", "abc", "shop-a", ""];

    /// <summary>The moments the values name at <see cref="Now"/> in Seoul and New York: where lt and lte part.</summary>
    private static readonly DateTimeOffset?[] Boundaries =
    [
        Now, Now.AddHours(2), new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.FromHours(9)),
        new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.FromHours(9)), new DateTimeOffset(2026, 9, 8, 0, 0, 0, TimeSpan.FromHours(9)),
        new DateTimeOffset(2026, 11, 7, 0, 0, 0, TimeSpan.FromHours(9)), new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.FromHours(-5)),
        new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.FromHours(-5)),
    ];

    private static Gen<DateTimeOffset?> Time() =>
        Gen.OneOf(Gen.Constant<DateTimeOffset?>(null), Gen.Choose(-400 * 24, 48).Select(h => (DateTimeOffset?)Now.AddHours(h).AddMinutes(h % 60)), Gen.Elements(Boundaries));

    private static Gen<CustomerProfile> Profile(int id) =>
        from signed in Time()
        from first in Time()
        from login in Time()
        from points in Gen.OneOf(Gen.Constant<long?>(null), Gen.Choose(0, 12_000).Select(p => (long?)p))
        from orders in Gen.Choose(0, 3)
        from flags in Gen.Choose(0, 15)
        from zone in Gen.Elements<string?>(null, "America/New_York", "Asia/Seoul", "Not/AZone")
        from shop in Gen.Elements<string?>(null, "shop-a", "shop-b")
        select new CustomerProfile
        {
            Key = new CustomerKey("shopify", id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            SignedUpAt = signed, FirstOrderAt = first, LastOrderAt = first?.AddDays(orders), LastLoginAt = login, LastSeenAt = login ?? signed,
            PointsBalance = points, Orders = Enumerable.Range(0, orders).Aggregate(OrderSet.None, (set, o) => set.With($"o{o}")),
            Consent = new MarketingConsent((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0), Email = (flags & 8) != 0 ? "a@example.com" : null,
            TimeZone = zone, ShopDomain = shop,
        };

    private static Gen<Condition> Leaf() =>
        from fact in Gen.Elements([.. DateFacts, .. OtherFacts])
        from op in Gen.Elements(Condition.Operators.ToArray())
        from value in Gen.Elements(Values)
        select new Condition { Fact = fact, Op = op, Value = value, Values = op == "in" ? [value, "true"] : null };

    private static Gen<Condition> Tree(int depth) => depth == 0 ? Leaf() : Gen.OneOf(
        Leaf(),
        Gen.NonEmptyListOf(Tree(depth - 1)).Select(c => new Condition { All = c.Take(3).ToList() }),
        Gen.NonEmptyListOf(Tree(depth - 1)).Select(c => new Condition { Any = c.Take(3).ToList() }),
        Tree(depth - 1).Select(c => new Condition { Not = c }));

    [Property(MaxTest = 300)]
    public Property Count_EqualsEvaluatingEveryProfile()
    {
        var cases = from profiles in Gen.ListOf(Profile(0)).Select(ps => ps.Select((p, i) => p with { Key = new CustomerKey("shopify", $"{i}") }))
                    from condition in Tree(2)
                    from hours in Gen.Elements(0, 0, 0, 5, 30)
                    select (profiles: profiles.ToList(), condition, now: Now.AddHours(hours));
        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var index = new SegmentIndex();
            c.profiles.ForEach(index.Upsert);
            var segment = new Segment { Id = "s", Condition = c.condition };
            var expected = c.profiles.Count(p => c.condition.Evaluate(CustomerFacts.OfProfile(p), new EvaluationTime(c.now, CustomerContexts.ZoneOf(p, Seoul))));
            var members = index.Members(segment, [segment], c.now, Seoul, -1, 1000).Members;

            return index.Count(segment, [segment], c.now, Seoul) == expected && members.Count == expected;
        });
    }

    [Fact]
    public void Count_EveryLeafOnTheBoundaries_EqualsEvaluating()
    {
        var zones = new string?[] { null, "America/New_York", "Not/AZone" };
        var profiles = Boundaries.Append(null).SelectMany(t => zones.Select(z => (t, z))).Select((p, i) => new CustomerProfile
        {
            Key = new CustomerKey("shopify", $"{i}"), SignedUpAt = p.t, FirstOrderAt = p.t, LastOrderAt = p.t, LastLoginAt = p.t, LastSeenAt = p.t,
            PointsBalance = i * 500, TimeZone = p.z, Orders = i % 3 == 0 ? OrderSet.None.With("o") : OrderSet.None,
        }).ToList();
        var index = new SegmentIndex();
        profiles.ForEach(index.Upsert);

        foreach (var fact in DateFacts.Concat(OtherFacts))
        {
            foreach (var op in Condition.Operators)
            {
                foreach (var value in Values)
                {
                    var segment = new Segment { Id = "s", Condition = new Condition { Fact = fact, Op = op, Value = value, Values = [value] } };
                    var expected = profiles.Count(p => segment.Condition.Evaluate(CustomerFacts.OfProfile(p), new EvaluationTime(Now, CustomerContexts.ZoneOf(p, Seoul))));
                    Assert.True(expected == index.Count(segment, [segment], Now, Seoul), $"{fact} {op} {value}: expected {expected}");
                }
            }
        }
    }

    [Fact]
    public void Members_PageThroughEveryMemberOnce_UpsertReplaces_RemoveForgets()
    {
        var index = new SegmentIndex();
        var buyers = new Segment { Id = "buyers", Condition = Condition.Is("profile.hasOrdered", "eq", "true") };
        for (var i = 0; i < 250; i++)
        {
            index.Upsert(new CustomerProfile { Key = new CustomerKey("shopify", $"{i}"), FirstOrderAt = i % 2 == 0 ? Now : null });
        }

        index.Upsert(new CustomerProfile { Key = new CustomerKey("shopify", "1"), FirstOrderAt = Now }); // now a buyer
        index.Remove(new CustomerKey("shopify", "0"));
        var seen = new List<string>();
        var after = -1;
        while (true)
        {
            var (page, next) = index.Members(buyers, [buyers], Now, Seoul, after, 40);
            seen.AddRange(page.Select(k => k.CustomerId));
            if (next is null)
            {
                break;
            }

            after = next.Value;
        }

        Assert.Equal(125, index.Count(buyers, [buyers], Now, Seoul));
        Assert.Equal(125, seen.Distinct().Count());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Contains("1", seen);
        Assert.DoesNotContain("0", seen);
        Assert.Equal(249, index.Customers);
    }

    [Fact]
    public void SegmentFacts_AreTheOtherSegmentsMembership()
    {
        var index = new SegmentIndex();
        index.Upsert(new CustomerProfile { Key = new CustomerKey("shopify", "1"), PointsBalance = 3000, Consent = new MarketingConsent(true, false, false) });
        index.Upsert(new CustomerProfile { Key = new CustomerKey("shopify", "2"), PointsBalance = 3000 });
        var rich = new Segment { Id = "rich", Condition = Condition.Is("profile.points", "gte", "2000") };
        var reachableRich = new Segment { Id = "reachable-rich", Condition = new Condition { All = [Condition.Is("segment.rich", "eq", "true"), Condition.Is("profile.emailConsent", "eq", "true")] } };

        Assert.Equal(1, index.Count(reachableRich, [rich, reachableRich], Now, Seoul));
    }
}
