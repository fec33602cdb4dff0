using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace TrainingService.Api.Infrastructure;

public static class ApiDocs
{
    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> (ASP.NET Core's generator).</summary>
    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "TrainingService";
            doc.Info.Description = "Train Keras-style model definitions with TorchSharp, follow them live, and predict with them.";
            DeclareSecurity(doc);
            return Task.CompletedTask;
        }));
        return builder;
    }

    /// <summary>The two ways to send credentials (an API key in <c>X-Api-Key</c>, or <c>Authorization: Bearer</c> with
    /// an API key or an identity provider's token), required by every operation; Swagger UI's "Authorize" uses them.</summary>
    private static void DeclareSecurity(OpenApiDocument doc)
    {
        doc.Components ??= new OpenApiComponents();
        doc.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            ["ApiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key",
                Description = "An API key (tsk_…) from POST /api/keys or `TrainingService.Api keys create`.",
            },
            ["Bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer",
                Description = "An API key, or (Auth:Mode=jwt) a token from the configured identity provider.",
            },
        };
        doc.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", doc)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", doc)] = [] },
        ];
    }

    /// <summary>Serves the document and Swagger UI (at <c>/swagger</c>) over it.</summary>
    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "TrainingService v1");
            o.RoutePrefix = "swagger";
        });
        return app;
    }

    /// <summary>Puts a worked example on the endpoint's JSON request body.</summary>
    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, string exampleJson) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content is { } content)
            {
                foreach (var (type, media) in content)
                {
                    if (type.Contains("json", StringComparison.OrdinalIgnoreCase)) media.Example = JsonNode.Parse(exampleJson);
                }
            }
            return Task.CompletedTask;
        });
}
