using Nudge.App.Functions;
using Nudge.App.Hosting;

if (args is ["simulate", ..])
{
    return SimulationFunctions.RunCommand(args[1..], Console.Out, Console.Error);
}

if (NudgeApp.StartedByFunctionsHost(args))
{
    using var host = await NudgeApp.BuildForFunctionsHostAsync(args);
    await host.RunAsync();
    return 0;
}

var app = await NudgeApp.BuildAsync(args);
await app.RunAsync();
return 0;
