using System.Diagnostics;
using Nudge.Core.Journeys;
using Nudge.Core.Simulation;

namespace Nudge.Benchmarks;

/// <summary>
/// One million customers through the welcome journey over 30 virtual days, against a baseline in the same run:
/// a plain loop over the same synthetic population that draws the same timelines and only counts.
/// </summary>
public static class SimulationRun
{
    public static void Run(int customers, TextWriter output)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
        var scenario = new SimulationScenario { Customers = customers, Days = 30, Seed = 1 };
        JourneySimulator.Run(JourneyCatalog.Welcome, scenario with { Customers = 10_000 }, zone); // warm-up

        var baseline = Stopwatch.StartNew();
        var counted = CountOnly(scenario);
        baseline.Stop();

        var simulated = Stopwatch.StartNew();
        var result = JourneySimulator.Run(JourneyCatalog.Welcome, scenario, zone);
        simulated.Stop();

        var sizing = JourneySimulator.Run(JourneyCatalog.Welcome, scenario with { Customers = 10_000 }, zone, measureState: true);
        output.WriteLine($"customers                 {customers:N0} over {scenario.Days} virtual days, {Environment.ProcessorCount} cores");
        output.WriteLine($"baseline (count only)     {baseline.Elapsed.TotalSeconds:F2} s  ({counted:N0} timeline events)");
        output.WriteLine($"simulator                 {simulated.Elapsed.TotalSeconds:F2} s  ({result.Transitions:N0} transitions, {result.TotalSent:N0} messages)");
        output.WriteLine($"transitions/s             {result.Transitions / simulated.Elapsed.TotalSeconds:N0}");
        output.WriteLine($"simulator / baseline      {simulated.Elapsed.TotalSeconds / baseline.Elapsed.TotalSeconds:F1}x the time");
        output.WriteLine($"bytes per instance state  {sizing.StateBytes:N0} (JSON, final state incl. definition snapshot and history)");
    }

    private static long CountOnly(SimulationScenario scenario)
    {
        long events = 0;
        Parallel.For(0, Environment.ProcessorCount, () => 0L, (p, _, local) =>
        {
            for (var c = p; c < scenario.Customers; c += Environment.ProcessorCount)
            {
                var random = new Random(HashCode.Combine(scenario.Seed, c));
                for (var i = 0; i < 6; i++)
                {
                    random.NextDouble(); // the same draws the simulator makes for consent and entry time
                }

                var at = 0.0;
                foreach (var (_, rate) in scenario.DailyEventRates)
                {
                    while ((at += -Math.Log(1 - random.NextDouble()) / rate) < scenario.Days)
                    {
                        local++;
                    }
                }

                local++;
            }

            return local;
        }, local => Interlocked.Add(ref events, local));
        return events;
    }
}
