using BenchmarkDotNet.Running;
using Nudge.Benchmarks;

// Usage (see scripts/bench.sh):
//   Nudge.Benchmarks interpreter           BenchmarkDotNet: welcome journey per customer vs a counting loop
//   Nudge.Benchmarks ingest                BenchmarkDotNet: a webhook request's own work vs parsing its body
//   Nudge.Benchmarks simulate [customers]  1M customers × 30 virtual days vs a counting baseline
//   Nudge.Benchmarks shell <connection> [journeys] [clock speed] [start hour KST]   durable shell on Azurite: journeys/s, storage ops per journey
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
    case "shell":
        await ShellRun.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 200, args.Length > 3 ? int.Parse(args[3]) : 8640, args.Length > 4 ? int.Parse(args[4]) : 9, Console.Out);
        break;
    default:
        Console.Error.WriteLine("usage: Nudge.Benchmarks interpreter | ingest | simulate [customers] | shell <storage-connection> [journeys] [clock speed] [start hour KST]");
        return 2;
}

return 0;
