using System.ComponentModel;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Azure.Functions.Worker;
using Nudge.App.Hosting;
using Nudge.Core.Time;

namespace Nudge.App.Functions;

/// <summary><c>GET /api/health</c> and <c>GET /api/openapi.json</c>.</summary>
public sealed class OperationsFunctions(VirtualClock clock)
{
    private static readonly Lazy<string> Document = new(() => OpenApiDocument.Build(FunctionCatalog.Default).ToJsonString());

    [Function("Health")]
    [Description("200 with the (virtual) time once the app can serve.")]
    public IResult Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        Results.Json(new { status = "ok", now = clock.GetUtcNow(), clockSpeed = clock.Speed });

    [Function("OpenApi")]
    [Description("This document.")]
    public IResult OpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request) =>
        Results.Text(Document.Value, "application/json");
}

/// <summary>The OpenAPI 3 document of the app's HTTP functions, read from their attributes like the rest of the app.</summary>
public static class OpenApiDocument
{
    public const string RoutePrefix = "api";

    public static JsonObject Build(FunctionCatalog catalog)
    {
        var paths = new JsonObject();
        foreach (var function in catalog.Http.OrderBy(f => f.Route, StringComparer.Ordinal))
        {
            var path = $"/{RoutePrefix}/{function.Route}";
            if (paths[path] is not JsonObject item)
            {
                paths[path] = item = new JsonObject();
            }

            foreach (var verb in function.Verbs)
            {
                item[verb.ToLowerInvariant()] = Operation(function);
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.1",
            ["info"] = new JsonObject
            {
                ["title"] = "Nudge",
                ["version"] = typeof(OpenApiDocument).Assembly.GetName().Version?.ToString() ?? "1.0",
                ["description"] = "Shop webhooks in; journeys, deliveries and simulations for marketers (x-api-key).",
            },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject
                {
                    ["marketerKey"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "x-api-key" },
                },
            },
        };
    }

    private static JsonObject Operation(HttpFunction function)
    {
        var parameters = new JsonArray();
        foreach (var parameter in function.Method.GetParameters().Where(p => p.ParameterType == typeof(string) && function.Route.Contains($"{{{p.Name}}}", StringComparison.Ordinal)))
        {
            parameters.Add(new JsonObject { ["name"] = parameter.Name, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } });
        }

        var operation = new JsonObject
        {
            ["operationId"] = function.Name,
            ["summary"] = function.Method.GetCustomAttribute<DescriptionAttribute>()?.Description ?? function.Name,
            ["tags"] = new JsonArray(function.Route.Split('/')[0]),
            ["responses"] = new JsonObject { ["default"] = new JsonObject { ["description"] = "See the summary; errors are application/problem+json." } },
        };
        if (parameters.Count > 0)
        {
            operation["parameters"] = parameters;
        }

        return operation;
    }
}
