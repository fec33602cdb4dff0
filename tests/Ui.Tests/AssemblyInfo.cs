// Hangfire keeps its configuration in static state (JobStorage.Current); apps built concurrently in one process
// would trample each other's storage. Each test still gets its own app, database file and job server.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
