using System.Globalization;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Segments;

/// <summary>
/// Every profile's segment facts in columns (one row a customer: times as UTC ticks, numbers, flags, zone and shop as
/// small indexes: about 70 bytes of columns a row, plus its key), so a segment's size or members over a million customers is a pass over
/// arrays instead of a scan of the profile table. Conditions compile to predicates over rows that decide exactly as
/// <see cref="Condition.Evaluate"/> over <see cref="CustomerFacts.OfProfile"/> (a property test holds them equal);
/// relative values resolve once per time zone in use. Kept current by <see cref="IndexedProfileStore"/> for the
/// writes of this instance, loaded from storage at start, and refreshed from storage by changes since a watermark.
/// Thread-safe: writers take a lock, readers see a consistent snapshot of counts.
/// </summary>
public sealed class SegmentIndex
{
    private const long Missing = long.MinValue;
    private const int MaxSegmentDepth = 8;

    private readonly object _gate = new();
    private readonly Dictionary<CustomerKey, int> _rows = new();
    private readonly List<string> _zones = [];
    private readonly Dictionary<string, ushort> _zoneIds = new(StringComparer.Ordinal);
    private readonly List<string?> _shops = [];
    private readonly Dictionary<string, ushort> _shopIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _platforms = new(StringComparer.Ordinal);
    private CustomerKey[] _keys = [];
    private long[] _signedUp = [], _firstOrder = [], _lastOrder = [], _lastLogin = [], _lastSeen = [], _points = [];

    // Each time's own UTC offset in minutes, so a fact renders as the profile's does (text operators see the same string).
    private short[] _signedUpOffset = [], _firstOrderOffset = [], _lastOrderOffset = [], _lastLoginOffset = [], _lastSeenOffset = [];
    private int[] _orders = [];
    private ushort[] _zone = [], _shop = [];
    private byte[] _flags = [];
    private int _count;
    private int _live;

    [Flags]
    private enum Flag : byte
    {
        Live = 1, HasOrdered = 2, EmailConsent = 4, SmsConsent = 8, NightConsent = 16, HasEmail = 32, HasPhone = 64, HasOpenCart = 128,
    }

    /// <summary>Changes when the index is rebuilt: cursors of an older build are not valid any more.</summary>
    public string Generation { get; } = Guid.NewGuid().ToString("N")[..8];

    /// <summary>Whether the index holds every stored profile (loaded at start); until then callers scan.</summary>
    public bool IsLoaded { get; private set; }

    public int Customers => Volatile.Read(ref _live);

    public void MarkLoaded() => IsLoaded = true;

    /// <summary>Adds or replaces the customer's row.</summary>
    public void Upsert(CustomerProfile profile) => Put(profile, onlyIfAbsent: false);

    /// <summary>Adds the customer's row unless one is there (a load meeting a newer write of this instance keeps the write).</summary>
    public void AddIfAbsent(CustomerProfile profile) => Put(profile, onlyIfAbsent: true);

    public void Remove(CustomerKey customer)
    {
        lock (_gate)
        {
            if (_rows.Remove(customer, out var row))
            {
                _flags[row] = 0;
                _keys[row] = default;
                _live--;
            }
        }
    }

    private void Put(CustomerProfile profile, bool onlyIfAbsent)
    {
        lock (_gate)
        {
            if (!_rows.TryGetValue(profile.Key, out var row))
            {
                // One platform string for all its customers; the key in the map and in the column share the id string.
                var platform = _platforms.TryGetValue(profile.Key.Platform, out var shared) ? shared : _platforms[profile.Key.Platform] = profile.Key.Platform;
                var key = new CustomerKey(platform, profile.Key.CustomerId);
                row = _count++;
                Grow(_count);
                _rows[key] = row;
                _keys[row] = key;
                _live++;
            }
            else if (onlyIfAbsent)
            {
                return;
            }

            (_signedUp[row], _signedUpOffset[row]) = Ticks(profile.SignedUpAt);
            (_firstOrder[row], _firstOrderOffset[row]) = Ticks(profile.FirstOrderAt);
            (_lastOrder[row], _lastOrderOffset[row]) = Ticks(profile.LastOrderAt);
            (_lastLogin[row], _lastLoginOffset[row]) = Ticks(profile.LastLoginAt);
            (_lastSeen[row], _lastSeenOffset[row]) = Ticks(profile.LastSeenAt);
            _points[row] = profile.PointsBalance ?? Missing;
            _orders[row] = profile.Orders.Count;
            _zone[row] = Intern(_zones, _zoneIds, profile.TimeZone ?? "");
            _shop[row] = profile.ShopDomain is { } shop ? (ushort)(Intern(_shops!, _shopIds, shop) + 1) : (ushort)0;
            _flags[row] = (byte)(Flag.Live
                | (profile.HasOrdered ? Flag.HasOrdered : 0) | (profile.Consent.Email ? Flag.EmailConsent : 0) | (profile.Consent.Sms ? Flag.SmsConsent : 0)
                | (profile.Consent.NightAds ? Flag.NightConsent : 0) | (!string.IsNullOrEmpty(profile.Email) ? Flag.HasEmail : 0)
                | (!string.IsNullOrEmpty(profile.Phone) ? Flag.HasPhone : 0) | (profile.HasOpenCart ? Flag.HasOpenCart : 0));
        }
    }

    /// <summary>How many customers are in the segment at <paramref name="now"/>.</summary>
    public int Count(Segment segment, IReadOnlyList<Segment> all, DateTimeOffset now, TimeZoneInfo defaultZone)
    {
        lock (_gate)
        {
            var matches = Compile(segment.Condition, all, now, defaultZone, 0);
            var count = 0;
            for (var row = 0; row < _count; row++)
            {
                if (_flags[row] != 0 && matches(row))
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <summary>Up to <paramref name="limit"/> members after the cursor's row, and the cursor for the next page (null at the end).</summary>
    public (IReadOnlyList<CustomerKey> Members, int? Next) Members(Segment segment, IReadOnlyList<Segment> all, DateTimeOffset now, TimeZoneInfo defaultZone, int after, int limit)
    {
        lock (_gate)
        {
            var matches = Compile(segment.Condition, all, now, defaultZone, 0);
            var members = new List<CustomerKey>(Math.Min(limit, 1024));
            for (var row = Math.Max(after + 1, 0); row < _count; row++)
            {
                if (_flags[row] != 0 && matches(row))
                {
                    if (members.Count == limit)
                    {
                        return (members, row - 1);
                    }

                    members.Add(_keys[row]);
                }
            }

            return (members, null);
        }
    }

    private Func<int, bool> Compile(Condition condition, IReadOnlyList<Segment> all, DateTimeOffset now, TimeZoneInfo defaultZone, int depth)
    {
        if (condition.All is { } every)
        {
            var parts = every.Select(c => Compile(c, all, now, defaultZone, depth)).ToArray();
            return row => parts.All(p => p(row));
        }

        if (condition.Any is { } any)
        {
            var parts = any.Select(c => Compile(c, all, now, defaultZone, depth)).ToArray();
            return row => parts.Any(p => p(row));
        }

        if (condition.Not is { } not)
        {
            var inner = Compile(not, all, now, defaultZone, depth);
            return row => !inner(row);
        }

        var fact = condition.Fact ?? "";
        var times = fact switch
        {
            "profile.signedUpAt" => _signedUp,
            "profile.firstOrderAt" => _firstOrder,
            "profile.lastOrderAt" => _lastOrder,
            "profile.lastLoginAt" => _lastLogin,
            "profile.lastSeenAt" => _lastSeen,
            _ => null,
        };
        if (times is not null && CompileTime(condition, times, now, defaultZone) is { } timed)
        {
            return timed;
        }

        var flag = fact switch
        {
            "profile.hasOrdered" => Flag.HasOrdered,
            "profile.emailConsent" => Flag.EmailConsent,
            "profile.smsConsent" => Flag.SmsConsent,
            "profile.nightConsent" => Flag.NightConsent,
            "profile.hasEmail" => Flag.HasEmail,
            "profile.hasPhone" => Flag.HasPhone,
            "profile.hasOpenCart" => Flag.HasOpenCart,
            _ => (Flag)0,
        };
        if (flag != 0 && condition.Op is "eq" or "ne" && condition.Value is "true" or "false")
        {
            var wanted = (condition.Value == "true") == (condition.Op == "eq");
            return row => ((_flags[row] & (byte)flag) != 0) == wanted;
        }

        if (fact.StartsWith("segment.", StringComparison.Ordinal) && depth < MaxSegmentDepth)
        {
            var id = fact["segment.".Length..];
            var segment = all.FirstOrDefault(s => s.Id == id);
            var inSegment = segment is null ? (_ => false) : Compile(segment.Condition, all, now, defaultZone, depth + 1);
            return Generic(condition, row => inSegment(row) ? "true" : "false", now, defaultZone);
        }

        // Everything else decides exactly as the interpreter does, from the one fact rendered as the profile's facts render it.
        return Generic(condition, FactOf(fact), now, defaultZone);
    }

    /// <summary>A date fact against a date or a relative time: ticks against a threshold per time zone in use.</summary>
    private Func<int, bool>? CompileTime(Condition condition, long[] times, DateTimeOffset now, TimeZoneInfo defaultZone)
    {
        switch (condition.Op)
        {
            case "exists":
                return row => times[row] != Missing;
            case "missing":
                return row => times[row] == Missing;
            case "eq" or "ne" or "gt" or "gte" or "lt" or "lte":
                break;
            default:
                return null;
        }

        long[] thresholds;
        if (RelativeTime.IsRelative(condition.Value))
        {
            if (!RelativeTime.TryParse(condition.Value, out var relative))
            {
                var ne = condition.Op == "ne"; // a malformed relative value compares with nothing
                return _ => ne;
            }

            thresholds = _zones.Select(z => relative.Resolve(new EvaluationTime(now, Zone(z, defaultZone))).UtcTicks).ToArray();
        }
        else if (condition.Value is { } text && !decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out _)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var fixedTime))
        {
            thresholds = _zones.Select(_ => fixedTime.UtcTicks).ToArray();
        }
        else
        {
            return null;
        }

        var op = condition.Op;
        return row =>
        {
            var t = times[row];
            if (t == Missing)
            {
                return op == "ne";
            }

            var order = t.CompareTo(thresholds[_zone[row]]);
            return op switch { "eq" => order == 0, "ne" => order != 0, "gt" => order > 0, "gte" => order >= 0, "lt" => order < 0, _ => order <= 0 };
        };
    }

    private Func<int, bool> Generic(Condition leaf, Func<int, string?> fact, DateTimeOffset now, TimeZoneInfo defaultZone)
    {
        var name = leaf.Fact ?? "";
        var atByZone = _zones.Select(z => new EvaluationTime(now, Zone(z, defaultZone))).ToArray();
        return row =>
        {
            var value = fact(row);
            var facts = value is null ? Empty : new Dictionary<string, string>(1) { [name] = value };
            return leaf.Evaluate(facts, atByZone[_zone[row]]);
        };
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    /// <summary>One fact of a row as <see cref="CustomerFacts.OfProfile"/> renders it; null when the profile has none.</summary>
    private Func<int, string?> FactOf(string fact) => fact switch
    {
        "profile.signedUpAt" => row => Time(_signedUp[row], _signedUpOffset[row]),
        "profile.firstOrderAt" => row => Time(_firstOrder[row], _firstOrderOffset[row]),
        "profile.lastOrderAt" => row => Time(_lastOrder[row], _lastOrderOffset[row]),
        "profile.lastLoginAt" => row => Time(_lastLogin[row], _lastLoginOffset[row]),
        "profile.lastSeenAt" => row => Time(_lastSeen[row], _lastSeenOffset[row]),
        "profile.points" => row => _points[row] == Missing ? null : _points[row].ToString(CultureInfo.InvariantCulture),
        "profile.ordersCount" => row => _orders[row].ToString(CultureInfo.InvariantCulture),
        "profile.shop" => row => _shop[row] == 0 ? null : _shops[_shop[row] - 1],
        "profile.hasOrdered" => row => Bool(row, Flag.HasOrdered),
        "profile.emailConsent" => row => Bool(row, Flag.EmailConsent),
        "profile.smsConsent" => row => Bool(row, Flag.SmsConsent),
        "profile.nightConsent" => row => Bool(row, Flag.NightConsent),
        "profile.hasEmail" => row => Bool(row, Flag.HasEmail),
        "profile.hasPhone" => row => Bool(row, Flag.HasPhone),
        "profile.hasOpenCart" => row => Bool(row, Flag.HasOpenCart),
        _ => _ => null, // not a profile fact the index holds (event.*, profile.cartValue): absent, as in a segment's size today
    };

    private string Bool(int row, Flag flag) => (_flags[row] & (byte)flag) != 0 ? "true" : "false";

    private static string? Time(long utcTicks, short offsetMinutes) =>
        utcTicks == Missing ? null : new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes)).ToString("O", CultureInfo.InvariantCulture);

    private static (long UtcTicks, short OffsetMinutes) Ticks(DateTimeOffset? at) => at is { } t ? (t.UtcTicks, (short)t.Offset.TotalMinutes) : (Missing, (short)0);

    private static TimeZoneInfo Zone(string id, TimeZoneInfo defaultZone) =>
        id.Length > 0 && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : defaultZone;

    private static ushort Intern(List<string> list, Dictionary<string, ushort> ids, string value)
    {
        if (!ids.TryGetValue(value, out var id))
        {
            if (list.Count >= ushort.MaxValue - 1)
            {
                return 0; // beyond 65k distinct zones or shops: share the first (never met in practice)
            }

            id = (ushort)list.Count;
            list.Add(value);
            ids[value] = id;
        }

        return id;
    }

    private void Grow(int size)
    {
        if (size <= _keys.Length)
        {
            return;
        }

        var capacity = Math.Max(1024, _keys.Length * 2);
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _signedUp, capacity);
        Array.Resize(ref _firstOrder, capacity);
        Array.Resize(ref _lastOrder, capacity);
        Array.Resize(ref _lastLogin, capacity);
        Array.Resize(ref _lastSeen, capacity);
        Array.Resize(ref _signedUpOffset, capacity);
        Array.Resize(ref _firstOrderOffset, capacity);
        Array.Resize(ref _lastOrderOffset, capacity);
        Array.Resize(ref _lastLoginOffset, capacity);
        Array.Resize(ref _lastSeenOffset, capacity);
        Array.Resize(ref _points, capacity);
        Array.Resize(ref _orders, capacity);
        Array.Resize(ref _zone, capacity);
        Array.Resize(ref _shop, capacity);
        Array.Resize(ref _flags, capacity);
    }
}
