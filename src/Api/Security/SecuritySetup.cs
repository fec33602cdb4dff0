using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;

namespace TrainingService.Api.Security;

/// <summary>
/// Authentication (API keys, JWT bearer, or none on loopback), one authorization policy per scope, and a fallback
/// policy so that an endpoint nobody gave a policy still needs an authenticated caller.
/// </summary>
public static class SecuritySetup
{
    /// <summary>The policy scheme every request goes through; it forwards to the scheme that fits the credentials.</summary>
    public const string DefaultScheme = "Default";

    public static WebApplicationBuilder AddServiceSecurity(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(AuthOptions.Section);
        builder.Services.Configure<AuthOptions>(section);
        var options = section.Get<AuthOptions>() ?? new AuthOptions();
        var mode = options.Mode.ToLowerInvariant();
        if (mode is not (AuthModes.Keys or AuthModes.Jwt or AuthModes.None))
            throw new StartupFailure($"Auth:Mode '{options.Mode}' is not one of keys, jwt, none.");
        if (mode == AuthModes.None) RefuseUnlessLoopback(builder.Configuration);

        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<ApiKeyStore>();
        var auth = builder.Services.AddAuthentication(DefaultScheme)
            .AddPolicyScheme(DefaultScheme, "API key, bearer token or local", o => o.ForwardDefaultSelector = context => mode switch
            {
                AuthModes.None => LocalAuthenticationHandler.SchemeName,
                AuthModes.Jwt when ApiKeyAuthenticationHandler.Find(context.Request).Secret is null
                                   && ApiKeyAuthenticationHandler.BearerToken(context.Request) is not null => JwtBearerDefaults.AuthenticationScheme,
                _ => ApiKeyAuthenticationHandler.SchemeName,
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, LocalAuthenticationHandler>(LocalAuthenticationHandler.SchemeName, null);
        if (mode == AuthModes.Jwt) auth.AddJwtBearer(o => ConfigureJwt(o, options.Jwt));

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddScopePolicies();

        // A request's DbContext sees only the caller's runs and sweeps (admins see all); jobs get unscoped contexts.
        builder.Services.AddScoped<RequestCaller>();
        builder.Services.Replace(ServiceDescriptor.Scoped(sp =>
        {
            var db = sp.GetRequiredService<IDbContextFactory<TrainingDbContext>>().CreateDbContext();
            if (sp.GetRequiredService<RequestCaller>().User is { Identity.IsAuthenticated: true } user) db.ActAs(user.Owner(), user.IsAdmin());
            return db;
        }));
        return builder;
    }

    private static AuthorizationBuilder AddScopePolicies(this AuthorizationBuilder authorization)
    {
        foreach (var scope in Scopes.All)
            authorization.AddPolicy(scope, p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.Has(scope)));
        return authorization;
    }

    public static WebApplication UseServiceSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.Use((context, next) =>
        {
            context.RequestServices.GetRequiredService<RequestCaller>().User = context.User;
            return next(context);
        });
        app.UseAuthorization();
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value.Mode.Equals(AuthModes.None, StringComparison.OrdinalIgnoreCase))
            app.Lifetime.ApplicationStarted.Register(() => StopUnlessLoopback(app));
        return app;
    }

    private static void ConfigureJwt(JwtBearerOptions o, JwtAuthOptions jwt)
    {
        o.Authority = jwt.Authority;
        o.Audience = jwt.Audience;
        o.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        o.MapInboundClaims = false;
        if (jwt.Issuer is not null) o.TokenValidationParameters.ValidIssuer = jwt.Issuer;
        o.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                context.Principal = JwtClaims.ToPrincipal(context.Principal!, jwt);
                return Task.CompletedTask;
            },
        };
    }

    /// <summary>Before anything binds: <c>Auth:Mode=none</c> with a configured non-loopback URL stops start-up.</summary>
    private static void RefuseUnlessLoopback(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"] ?? ""))
            .ToList();
        if (!string.IsNullOrEmpty(configuration["http_ports"]) || !string.IsNullOrEmpty(configuration["https_ports"]))
            urls.Add("http://+:" + (configuration["http_ports"] ?? configuration["https_ports"]));
        if (urls.FirstOrDefault(u => !IsLoopback(u)) is { } open)
            throw new StartupFailure($"Auth:Mode=none is only allowed when the service listens on loopback; it is configured to listen on {open}. " +
                                                "Create a key (dotnet TrainingService.Api.dll keys create --name admin --scopes admin) and use Auth:Mode=keys.");
    }

    /// <summary>After binding (addresses configured in code included): a non-loopback address stops the service.</summary>
    private static void StopUnlessLoopback(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (addresses.FirstOrDefault(a => !IsLoopback(a)) is not { } open) return;
        app.Logger.LogCritical("Auth:Mode=none is only allowed on loopback; the service listens on {Address}. Stopping.", open);
        Environment.ExitCode = 3;
        app.Lifetime.StopApplication();
    }

    public static bool IsLoopback(string url)
    {
        var host = url.Contains("://") ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        host = host.Split('/')[0];
        host = host.StartsWith('[') ? host[1..host.IndexOf(']')] : host.Split(':')[0];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}

/// <summary>The authenticated caller of the current request, for services built in the request's scope.</summary>
public sealed class RequestCaller
{
    public ClaimsPrincipal? User { get; set; }
}
