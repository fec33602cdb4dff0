using TrainingService.Api.CrossValidation;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Jobs;
using TrainingService.Api.Sweeps;

namespace TrainingService.Api.Tuning;

/// <summary>Cross-validation and sweeps, wired in one place; they reach into training only through
/// <see cref="ITrainingHooks"/>.</summary>
public static class TuningSetup
{
    public static WebApplicationBuilder AddTuning(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<TuningOptions>(builder.Configuration.GetSection(TuningOptions.Section));
        builder.Services.AddSingleton<ITrainingHooks, TuningHooks>();
        builder.Services.AddSingleton<AshaScheduler>();
        builder.Services.AddScoped<SweepSubmission>();
        builder.Services.AddSingleton<SweepService>();
        builder.Services.AddSingleton<CrossValidationService>();
        // The coordinators run where training runs; an api node only writes the rows they advance.
        if (ServiceRole.Read(builder.Configuration).Trains)
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<SweepService>());
            builder.Services.AddHostedService(sp => sp.GetRequiredService<CrossValidationService>());
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapTuningApi(this IEndpointRouteBuilder app)
    {
        app.MapCrossValidationApi();
        app.MapSweepsApi();
        return app;
    }
}
