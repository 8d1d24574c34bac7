using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using Microsoft.Azure.Functions.Worker;
using Nudge.App.Hosting;
using Nudge.Core;
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
            ["responses"] = Responses(function.Method.ReturnType, function.Method.GetCustomAttribute<Microsoft.AspNetCore.Mvc.ProducesResponseTypeAttribute>()?.StatusCode ?? 200),
        };
        if (parameters.Count > 0)
        {
            operation["parameters"] = parameters;
        }

        return operation;
    }

    private static readonly JsonSerializerOptions SchemaOptions = SchemaOptionsOf(NudgeJson.Options);

    private static JsonSerializerOptions SchemaOptionsOf(JsonSerializerOptions options)
    {
        var copy = new JsonSerializerOptions(options) { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };
        copy.MakeReadOnly();
        return copy;
    }

    /// <summary>
    /// Responses from a function's typed result (<c>Results&lt;JsonHttpResult&lt;T&gt;, ContentHttpResult, ProblemHttpResult&gt;</c>):
    /// the JSON body's schema, text bodies (CSV) and problem details; a function returning plain <c>IResult</c> gets the default.
    /// The success status is 200 unless the function says otherwise (<c>[ProducesResponseType(202)]</c>).
    /// </summary>
    private static JsonObject Responses(Type returnType, int success)
    {
        var type = returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>) ? returnType.GetGenericArguments()[0] : returnType;
        var kinds = type.IsGenericType && type.Name.StartsWith("Results`", StringComparison.Ordinal) ? type.GetGenericArguments() : [type];
        var ok = new JsonObject();
        var responses = new JsonObject();
        var bodies = new JsonArray();
        foreach (var kind in kinds)
        {
            if (kind.IsGenericType && kind.GetGenericTypeDefinition() is var generic
                && (generic == typeof(Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<>) || generic == typeof(Microsoft.AspNetCore.Http.HttpResults.Ok<>)))
            {
                bodies.Add(JsonSchemaExporter.GetJsonSchemaAsNode(SchemaOptions, kind.GetGenericArguments()[0]));
            }
            else if (kind == typeof(Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult))
            {
                ok["text/csv"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string" } };
            }
            else if (kind == typeof(Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult))
            {
                responses["4XX"] = new JsonObject
                {
                    ["description"] = "Problem details: a bad query (400), a missing or wrong x-api-key (401), an unknown resource (404).",
                    ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = JsonSchemaExporter.GetJsonSchemaAsNode(SchemaOptions, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails)) } },
                };
            }
        }

        if (bodies.Count > 0)
        {
            // One function may answer one of several bodies (a journey action: the changed journey or a simulation).
            ok["application/json"] = new JsonObject { ["schema"] = bodies.Count == 1 ? bodies[0]!.DeepClone() : new JsonObject { ["oneOf"] = bodies } };
        }

        if (ok.Count == 0 && responses.Count == 0)
        {
            return new JsonObject { ["default"] = new JsonObject { ["description"] = "See the summary; errors are application/problem+json." } };
        }

        if (ok.Count > 0)
        {
            responses[success.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject { ["description"] = success == 202 ? "Accepted" : "OK", ["content"] = ok };
        }

        return responses;
    }
}
