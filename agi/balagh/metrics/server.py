"""The app's /metrics listener: prometheus-client's own WSGI server on a daemon thread,
bound to the loopback address the settings name (config's `metrics_listen`)."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_wsgi_server


def host_port(listen: str) -> tuple[str, int]:
    """'127.0.0.1:9464' or '[::1]:9464' -> (host, port); the settings checked it."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class MetricsServer:
    def __init__(self, listen: str, registry: CollectorRegistry) -> None:
        host, port = host_port(listen)
        self._server: WSGIServer | None = None
        self._server, _thread = start_wsgi_server(port, host, registry)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()  # waits for serve_forever to return
            self._server.server_close()
            self._server = None
