# syntax=docker/dockerfile:1
# TrainingService: build with the .NET SDK, run on the ASP.NET Core runtime as a non-root user, state in /data.
#   docker build -t trainingservice .      docker run -p 8080:8080 -v training-data:/data trainingservice

# Both stages on the same distribution (Ubuntu 24.04), so libtorch is linked and run against one libstdc++.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
# Restore first, from the project files only, so code changes do not re-download packages. global.json is left
# out on purpose: the image's own .NET 10 SDK builds the app, whatever feature band the developers pin.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY build/ build/
COPY src/Api/Api.csproj src/Api/
COPY src/Persistence/Persistence.csproj src/Persistence/
COPY src/Training/Training.csproj src/Training/
RUN dotnet restore src/Api/Api.csproj -r linux-x64
COPY src/ src/
RUN dotnet publish src/Api/Api.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
# curl for the health check (libtorch brings its own OpenMP runtime).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data \
 && chown "$APP_UID" /data
WORKDIR /app
COPY --from=build /app ./
# glibc.malloc.hugetlb: large tensors get transparent huge pages (read at process start; see NativeHeap).
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Storage__Root=/data \
    DOTNET_gcServer=0 \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1
VOLUME ["/data"]
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["./TrainingService.Api"]
