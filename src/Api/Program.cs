using TorchSharp;
using TrainingService.Api.Catalog;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Jobs;
using TrainingService.Api.Keras;
using TrainingService.Api.Models;
using TrainingService.Api.Observability;
using TrainingService.Api.Runs;
using TrainingService.Api.Tuning;

// Before libtorch loads: its OpenMP threads sleep when idle instead of spinning on shared cores (see OpenMpWaits).
TrainingService.Training.Engine.OpenMpWaits.SleepWhenIdle();

var builder = WebApplication.CreateBuilder(args);
try
{
    builder.AddServiceStorage();
    builder.AddTrainingJobs();
    builder.AddTuning();
    builder.AddApiDocs();
    builder.AddServiceHealth();
    builder.AddObservability();
    builder.Services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
    builder.Services.AddProblemDetails();
    builder.Services.AddSingleton<IDatasets, CatalogDatasets>();
    builder.Services.AddScoped<RunSubmission>();
    builder.Services.AddSingleton<ModelCache>();
    builder.Services.AddSingleton<PredictionService>();

    var app = builder.Build();

    await app.PrepareStorageAsync();
    torch.set_num_threads(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TrainingOptions>>().Value.EffectiveTorchThreads);

    app.UseExceptionHandler();
    app.UseStatusCodePages();

    app.MapServiceHealth();
    app.MapMetrics();
    // A worker node serves its health only; everything a user calls lives on api (or all-in-one) nodes.
    if (ServiceRole.Read(app.Configuration).ServesApi)
    {
        app.MapRunsApi();
        app.MapModelsApi();
        app.MapKerasApi();
        app.MapDatasetsApi();
        app.MapCatalogApi();
        app.MapTuningApi();
        app.MapApiDocs();
        app.MapJobsDashboard();
    }

    app.Run();
}
catch (StartupFailure e)
{
    // A configuration that cannot work ends the process with one clear line, before it listens or takes a job.
    Console.Error.WriteLine($"TrainingService cannot start: {e.Message}");
    return 1;
}
return 0;

/// <summary>Entry point, visible to the integration tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
