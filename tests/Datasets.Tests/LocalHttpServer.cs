using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TrainingService.Datasets.Tests;

/// <summary>A minimal HTTP/1.1 server on a loopback port for download tests. Each path maps to a response:
/// the body, and optionally a Content-Length larger than the body after which the connection is cut
/// (an interrupted transfer).</summary>
public sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<string, (byte[] Body, long? AnnouncedLength)> _routes = new();

    public LocalHttpServer()
    {
        _listener.Start();
        _loop = Task.Run(AcceptLoop);
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    public void Serve(string path, byte[] body, long? announcedLength = null)
    {
        lock (_routes) _routes[path] = (body, announcedLength);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { return; }
            _ = Task.Run(() => Handle(client));
        }
    }

    private async Task Handle(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            var requestLine = await reader.ReadLineAsync() ?? "";
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync())) { }
            var path = requestLine.Split(' ').ElementAtOrDefault(1)?.TrimStart('/') ?? "";
            (byte[] Body, long? Announced) route;
            bool found;
            lock (_routes) found = _routes.TryGetValue(path, out route);
            if (!found)
            {
                await stream.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
                return;
            }
            var header = $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {route.Announced ?? route.Body.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(header));
            await stream.WriteAsync(route.Body);
            await stream.FlushAsync();
            if (route.Announced is not null) client.Client.LingerState = new LingerOption(true, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
