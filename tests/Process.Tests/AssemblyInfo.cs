// Every test runs its own service processes on their own ports and folders, so the test classes run in parallel
// with each other (and this project in parallel with the other test projects).
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerClass, DisableTestParallelization = false)]
