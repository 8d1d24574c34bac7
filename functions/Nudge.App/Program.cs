using Nudge.App.Hosting;

var app = await NudgeApp.BuildAsync(args);
await app.RunAsync();
