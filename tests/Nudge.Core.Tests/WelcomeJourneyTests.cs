using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;

namespace Nudge.Core.Tests;

/// <summary>The welcome journey through the pure interpreter, in virtual time.</summary>
public class WelcomeJourneyTests
{
    private static readonly EvaluationTime AnyTime = EvaluationTime.Utc(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly CustomerKey Customer = new("shopify", "7001");
    private static readonly CustomerContext Context = new(Seoul, NightConsent: false);

    /// <summary>10:00 in Seoul: day 2 at the same time is inside the daytime window.</summary>
    private static readonly DateTimeOffset SignupAt = new(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(9));

    [Fact]
    public void Start_Signup_SendsCouponEmailAtOnceAndWaitsTwoDays()
    {
        var decision = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);

        var send = Assert.IsType<SendMessage>(decision.Commands[0]);
        Assert.Equal((ChannelNames.Email, "welcome-coupon", SignupAt), (send.Channel, send.Template, send.ScheduledFor));
        var timer = Assert.IsType<ScheduleTimer>(decision.Commands[1]);
        Assert.Equal(SignupAt.AddDays(2), timer.DueAt);
        Assert.Equal(2, decision.Commands.Count);
        Assert.Equal(InstanceStatus.Active, decision.Instance.Status);
    }

    [Fact]
    public void Apply_TimerOnDayTwo_SendsSmsAndCompletes()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);
        var timer = (ScheduleTimer)started.Commands[1];

        var decision = JourneyInterpreter.Apply(started.Instance, new TimerFired(timer.DueAt, timer.Sequence), Context);

        var send = Assert.IsType<SendMessage>(Assert.Single(decision.Commands));
        Assert.Equal((ChannelNames.Sms, "welcome-day2", MessageClass.Ad), (send.Channel, send.Template, send.Class));
        Assert.Equal(InstanceStatus.Completed, decision.Instance.Status);
    }

    [Fact]
    public void Apply_OrderBeforeDayTwo_ExitsAndTheLateTimerSendsNothing()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);
        var timer = (ScheduleTimer)started.Commands[1];

        var ordered = JourneyInterpreter.Apply(started.Instance, new EventArrived(SignupAt.AddHours(30), "order.placed", "o1"), Context);
        var afterTimer = JourneyInterpreter.Apply(ordered.Instance, new TimerFired(timer.DueAt, timer.Sequence), Context);

        Assert.Equal(InstanceStatus.Exited, ordered.Instance.Status);
        Assert.Empty(ordered.Commands);
        Assert.False(afterTimer.Changed);
        Assert.Empty(afterTimer.Commands);
    }

    [Fact]
    public void Apply_OrderAfterSms_LeavesCompletedInstanceAlone()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);
        var timer = (ScheduleTimer)started.Commands[1];
        var completed = JourneyInterpreter.Apply(started.Instance, new TimerFired(timer.DueAt, timer.Sequence), Context);

        var afterOrder = JourneyInterpreter.Apply(completed.Instance, new EventArrived(timer.DueAt.AddHours(1), "order.placed", "o1"), Context);

        Assert.False(afterOrder.Changed);
        Assert.Equal(InstanceStatus.Completed, afterOrder.Instance.Status);
    }

    [Fact]
    public void Apply_OrderWhileWaiting_ExitsWithGoalReason()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);

        var decision = JourneyInterpreter.Apply(started.Instance, new EventArrived(SignupAt.AddHours(1), "order.placed", "o1"), Context);

        Assert.Equal(InstanceStatus.Exited, decision.Instance.Status);
        Assert.Equal("goal: order.placed", decision.Instance.EndReason);
    }

    [Fact]
    public void Start_OrderAfterTheSignupHandledBeforeTheStart_ExitsWithoutSending()
    {
        var decision = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context with { LatestEvents = EventTimes.None.With(EventTypes.OrderPlaced, SignupAt.AddMinutes(1)) });

        Assert.Empty(decision.Commands);
        Assert.Equal((InstanceStatus.Exited, "goal reached before start (order.placed)"), (decision.Instance.Status, decision.Instance.EndReason));
    }

    [Theory]
    [InlineData("true", false)]
    [InlineData("false", true)]
    public void Entry_CustomerWhoOrderedBeforeSigningUp_GetsNoWelcome(string hasOrdered, bool enters)
    {
        Assert.Equal(enters, JourneyCatalog.Welcome.Entry.Filter!.Evaluate(new Dictionary<string, string> { ["profile.hasOrdered"] = hasOrdered }, AnyTime));
    }

    [Fact]
    public void AbandonedCheckout_RepeatCustomerWhoOrderedLastMonth_StartsAndWaitsForTheCart()
    {
        var checkoutAt = SignupAt.AddDays(40);
        var lastMonth = Context with { LatestEvents = EventTimes.None.With(EventTypes.OrderPlaced, checkoutAt.AddDays(-30)) };

        var decision = JourneyInterpreter.Start(JourneyCatalog.AbandonedCheckout, Customer, checkoutAt, lastMonth);

        Assert.Equal(InstanceStatus.Active, decision.Instance.Status);
        Assert.Equal(checkoutAt.AddDays(1), Assert.IsType<ScheduleTimer>(Assert.Single(decision.Commands)).DueAt);
    }

    [Fact]
    public void Start_DayTwoFallsAtNight_TheWaitWakesAtEightAmAndTheSmsGoesAtOnce()
    {
        var lateSignup = new DateTimeOffset(2026, 11, 24, 22, 30, 0, TimeSpan.FromHours(9));
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, lateSignup, Context);
        var morning = (ScheduleTimer)started.Commands[1];

        var sent = JourneyInterpreter.Apply(started.Instance, new TimerFired(morning.DueAt, morning.Sequence), Context);

        Assert.Equal(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.FromHours(9)), morning.DueAt);
        Assert.Contains(started.Instance.History, h => h.What.Contains("quiet hours for sms", StringComparison.Ordinal));
        var sms = Assert.IsType<SendMessage>(Assert.Single(sent.Commands));
        Assert.Equal((ChannelNames.Sms, morning.DueAt), (sms.Channel, sms.ScheduledFor));
    }

    [Fact]
    public void Start_DayTwoAtNightWithNightConsent_WakesOnTheDot()
    {
        var lateSignup = new DateTimeOffset(2026, 11, 24, 22, 30, 0, TimeSpan.FromHours(9));

        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, lateSignup, Context with { NightConsent = true });

        Assert.Equal(lateSignup.AddDays(2), ((ScheduleTimer)started.Commands[1]).DueAt);
    }

    [Fact]
    public void Apply_NightConsentWithdrawnDuringTheWait_DefersSmsToEightAmThenSends()
    {
        var lateSignup = new DateTimeOffset(2026, 11, 24, 22, 30, 0, TimeSpan.FromHours(9));
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, lateSignup, Context with { NightConsent = true });
        var dayTwo = (ScheduleTimer)started.Commands[1];

        var deferred = JourneyInterpreter.Apply(started.Instance, new TimerFired(dayTwo.DueAt, dayTwo.Sequence), Context);
        var morning = Assert.IsType<ScheduleTimer>(Assert.Single(deferred.Commands));
        var sent = JourneyInterpreter.Apply(deferred.Instance, new TimerFired(morning.DueAt, morning.Sequence), Context);

        Assert.Equal(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.FromHours(9)), morning.DueAt);
        Assert.Equal(InstanceStatus.Active, deferred.Instance.Status);
        var sms = Assert.IsType<SendMessage>(Assert.Single(sent.Commands));
        Assert.Equal(ChannelNames.Sms, sms.Channel);
    }

    /// <summary>Only the event itself carries what a filtered or keyed goal tests: a later order in the profile is not it.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Apply_DayTwoWhenTheProfileShowsAnOrderButTheGoalIsFilteredOrKeyed_SendsTheSms(bool keyed)
    {
        var bigOrdersOnly = JourneyCatalog.Welcome with
        {
            ExitOn = [keyed
                ? new ExitRule { Event = EventTypes.OrderPlaced, MatchBusinessKey = true }
                : new ExitRule { Event = EventTypes.OrderPlaced, Filter = Condition.Is("event.value", "gte", "100000") }],
        };
        var started = JourneyInterpreter.Start(bigOrdersOnly, Customer, SignupAt, Context);
        var timer = (ScheduleTimer)started.Commands[1];

        var decision = JourneyInterpreter.Apply(started.Instance, new TimerFired(timer.DueAt, timer.Sequence),
            Context with { LatestEvents = EventTimes.None.With(EventTypes.OrderPlaced, SignupAt.AddHours(1)) });

        Assert.Equal(ChannelNames.Sms, Assert.IsType<SendMessage>(Assert.Single(decision.Commands)).Channel);
        Assert.False(decision.Instance.Converted);
    }

    [Fact]
    public void Start_CustomerWhoOrderedBeforeButTheGoalIsFiltered_StartsAndSendsTheCoupon()
    {
        var bigOrdersOnly = JourneyCatalog.Welcome with { ExitOn = [new ExitRule { Event = EventTypes.OrderPlaced, Filter = Condition.Is("event.value", "gte", "100000") }] };

        var decision = JourneyInterpreter.Start(bigOrdersOnly, Customer, SignupAt, Context with { LatestEvents = EventTimes.None.With(EventTypes.OrderPlaced, SignupAt.AddDays(-3)) });

        Assert.Equal(InstanceStatus.Active, decision.Instance.Status);
        Assert.Equal(ChannelNames.Email, Assert.IsType<SendMessage>(decision.Commands[0]).Channel);
    }

    [Fact]
    public void Apply_DayTwoWhenTheProfileShowsAnOrderTheInstanceMissed_ExitsWithoutSms()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);
        var timer = (ScheduleTimer)started.Commands[1];

        var decision = JourneyInterpreter.Apply(started.Instance, new TimerFired(timer.DueAt, timer.Sequence), Context with { LatestEvents = EventTimes.None.With(EventTypes.OrderPlaced, SignupAt.AddHours(1)) });

        Assert.Empty(decision.Commands);
        Assert.Equal((InstanceStatus.Exited, true), (decision.Instance.Status, decision.Instance.Converted));
    }

    [Fact]
    public void Apply_StaleOrDuplicateTimer_IsIgnored()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);
        var timer = (ScheduleTimer)started.Commands[1];
        var completed = JourneyInterpreter.Apply(started.Instance, new TimerFired(timer.DueAt, timer.Sequence), Context);

        var early = JourneyInterpreter.Apply(started.Instance, new TimerFired(timer.DueAt.AddMinutes(-1), timer.Sequence), Context);
        var again = JourneyInterpreter.Apply(completed.Instance, new TimerFired(timer.DueAt, timer.Sequence), Context);

        Assert.False(early.Changed);
        Assert.False(again.Changed);
    }

    [Fact]
    public void Start_SameCustomerTwice_MintsTheSameIds()
    {
        var first = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt, Context);
        var second = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, SignupAt.AddMinutes(5), Context);

        Assert.Equal(first.Instance.InstanceId, second.Instance.InstanceId);
        Assert.Equal(((SendMessage)first.Commands[0]).DeliveryId, ((SendMessage)second.Commands[0]).DeliveryId);
    }
}
