using TorchSharp;
using TrainingService.Api.Datasets;
using TrainingService.Api.Examples;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Jobs;
using TrainingService.Api.Keras;
using TrainingService.Api.Limits;
using TrainingService.Api.Models;
using TrainingService.Api.Observability;
using TrainingService.Api.Reference;
using TrainingService.Api.Runs;
using TrainingService.Api.Security;
using TrainingService.Api.Serving;
using TrainingService.Api.Tuning;

// Before libtorch loads: its OpenMP threads sleep when idle instead of spinning on shared cores (see OpenMpWaits).
TrainingService.Training.Engine.OpenMpWaits.SleepWhenIdle();
// Training steps reuse freed native memory instead of faulting in fresh pages every step (see NativeHeap).
var nativeHeap = TrainingService.Training.Engine.NativeHeap.KeepFreedMemory();

// The web UI ships beside the binary (wwwroot is copied to the output), so it is found whatever the working folder.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});
try
{
    builder.AddServiceStorage();
    builder.AddServiceSecurity();
    builder.AddRequestLimits();
    builder.AddTrainingJobs();
    builder.AddTuning();
    builder.AddApiDocs();
    builder.AddServiceHealth();
    builder.AddObservability();
    builder.Services.ConfigureHttpJsonOptions(o =>
    {
        Json.Configure(o.SerializerOptions);
        // Prediction answers are the hottest responses: their serialisation is generated at build time.
        o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServingJson.Default);
    });
    builder.Services.AddProblemDetails();
    builder.Services.AddSingleton<NodeDatasets>();
    builder.Services.AddScoped<DatabaseCsvUploads>();
    builder.Services.AddScoped<IDatasets, CatalogDatasets>();
    builder.Services.AddScoped<RunSubmission>();
    builder.Services.AddSingleton<ModelCache>();
    builder.Services.AddSingleton<PredictionService>();
    builder.Services.AddSingleton<TrainingService.Api.Serving.ModelNames>();

    if (KeysCommand.IsInvoked(args)) KeysCommand.LogToStandardError(builder);
    var app = builder.Build();
    if (KeysCommand.IsInvoked(args)) return await KeysCommand.RunAsync(app, args);

    app.Logger.LogInformation("Native heap: {NativeHeap}", nativeHeap);
    await app.PrepareStorageAsync();
    await app.ImportUploadFolderAsync();
    torch.set_num_threads(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TrainingOptions>>().Value.EffectiveTorchThreads);

    app.UseExceptionHandler();
    app.UseStatusCodePages();
    var servesApi = ServiceRole.Read(app.Configuration).ServesApi;
    // The web dashboard (wwwroot): static files over the public API, index.html at /. Not on a worker node.
    if (servesApi)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
    }
    app.UseServiceSecurity();
    app.UseRequestLimits();

    app.MapServiceHealth();
    app.MapMetrics();
    // A worker node serves its health and metrics only; everything a user calls lives on api (or all-in-one) nodes.
    if (servesApi)
    {
        app.MapRunsApi();
        app.MapEvaluationApi();
        app.MapModelsApi();
        app.MapInferenceProtocolApi();
        app.MapTfServingApi();
        app.MapKerasApi();
        app.MapDatasetsApi();
        app.MapReferenceApi();
        app.MapExamplesApi();
        app.MapTuningApi();
        app.MapKeysApi();
        app.MapAuditApi();
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
// 0, unless the node stopped itself after binding (Auth:Mode=none found listening off loopback).
return Environment.ExitCode;

/// <summary>Entry point, visible to the integration tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
