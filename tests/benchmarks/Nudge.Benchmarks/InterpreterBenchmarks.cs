using BenchmarkDotNet.Attributes;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;

namespace Nudge.Benchmarks;

/// <summary>The interpreter's hot path for one customer through the welcome journey, against a loop that only counts.</summary>
[MemoryDiagnoser]
public class InterpreterBenchmarks
{
    private const int Customers = 1_000;
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly CustomerContext Context = new(Seoul, false);
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 1, 0, 0, TimeSpan.Zero);
    private CustomerKey[] _customers = [];

    [GlobalSetup]
    public void Setup() => _customers = Enumerable.Range(0, Customers).Select(i => new CustomerKey("bench", i.ToString())).ToArray();

    [Benchmark(Baseline = true)]
    public int CountOnly()
    {
        var count = 0;
        foreach (var customer in _customers)
        {
            var due = Start.AddDays(2);
            count += customer.CustomerId.Length + (due > Start ? 2 : 0);
        }

        return count;
    }

    [Benchmark]
    public int WelcomeJourney()
    {
        var sends = 0;
        foreach (var customer in _customers)
        {
            var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, customer, Start, Context);
            var timer = (ScheduleTimer)started.Commands[1];
            var done = JourneyInterpreter.Apply(started.Instance, new TimerFired(timer.DueAt, timer.Sequence), Context);
            sends += started.Commands.Count + done.Commands.Count;
        }

        return sends;
    }
}
