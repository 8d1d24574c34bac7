using BenchmarkDotNet.Running;
using Nudge.Benchmarks;

// Usage (see scripts/bench.sh):
//   Nudge.Benchmarks interpreter           BenchmarkDotNet: welcome journey per customer vs a counting loop
//   Nudge.Benchmarks ingest                BenchmarkDotNet: a webhook request's own work vs parsing its body
//   Nudge.Benchmarks simulate [customers]  1M customers × 30 virtual days vs a counting baseline
//   Nudge.Benchmarks recommend [customers] [events]  hit rate @5 on a synthetic shop vs most popular; graph learning time
//   Nudge.Benchmarks journeys <connection> [journeys] [clock speed] [start hour KST] [bare-first|journeys-first]
//                                          journeys on Azurite against a bare orchestration of the same shape:
//                                          storage ops per instance, instances/s (set AZURITE_PID for the emulator's CPU)
//   Nudge.Benchmarks results <connection> [messages]
//                                          journey results: storage ops per status change with and without counters;
//                                          reading 1M entered / 3M deliveries against scanning the delivery log
//   Nudge.Benchmarks import <connection> [customers] [orders per customer]
//                                          CSV import on Azurite vs a bare batched insert of the same rows
//   Nudge.Benchmarks segments <connection> [stored] [in memory]
//   Nudge.Benchmarks audience <connection> [members] [snapshot]
//                                          a journey started for a segment vs a scheduled entry of the same customers
//                                          segment sizes from the index vs a full scan of the profile table
switch (args.FirstOrDefault())
{
    case "interpreter":
        BenchmarkRunner.Run<InterpreterBenchmarks>(args: args[1..]);
        break;
    case "ingest":
        BenchmarkRunner.Run<IngestRequestBenchmarks>(args: args[1..]);
        break;
    case "simulate":
        SimulationRun.Run(args.Length > 1 ? int.Parse(args[1]) : 1_000_000, Console.Out);
        break;
    case "recommend":
        RecommendationRun.Run(args.Length > 1 ? int.Parse(args[1]) : 20_000, args.Length > 2 ? int.Parse(args[2]) : 1_000_000, Console.Out);
        break;
    case "journeys":
        await JourneyRun.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 1000, args.Length > 3 ? int.Parse(args[3]) : 8640, args.Length > 4 ? int.Parse(args[4]) : 9,
            bareFirst: args.Length <= 5 || args[5] != "journeys-first", Console.Out);
        break;
    case "results":
        await ResultsRun.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 2000, Console.Out);
        break;
    case "import":
        await ImportRun.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 20_000, args.Length > 3 ? int.Parse(args[3]) : 2, Console.Out);
        break;
    case "segments":
        await SegmentIndexRun.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 100_000, args.Length > 3 ? int.Parse(args[3]) : 1_000_000, Console.Out);
        break;
    case "audience":
        await AudienceRun.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 2_000, args.Length > 3 ? int.Parse(args[3]) : 1_000_000, Console.Out);
        break;
    default:
        Console.Error.WriteLine("usage: Nudge.Benchmarks interpreter | ingest | simulate [customers] | recommend [customers] [events] | results <storage-connection> [messages] | journeys <storage-connection> [journeys] [clock speed] [start hour KST] [bare-first|journeys-first] | import <storage-connection> [customers] [orders per customer] | segments <storage-connection> [stored] [in memory] | audience <storage-connection> [members] [snapshot]");
        return 2;
}

return 0;
