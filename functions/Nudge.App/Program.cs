using Nudge.App.Functions;
using Nudge.App.Hosting;

if (args is ["simulate", ..])
{
    return SimulationFunctions.RunCommand(args[1..], Console.Out, Console.Error);
}

var app = await NudgeApp.BuildAsync(args);
await app.RunAsync();
return 0;
