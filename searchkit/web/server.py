"""Running the application: the listening socket bound before uvicorn starts (so that the
address is known and printed, also for --port 0, and a port in use is a one-line error), then
uvicorn's server until Ctrl-C."""

import socket
import sys
import threading
import time
import webbrowser
from typing import Callable

import uvicorn


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host`` and ``port`` (0: a free port); OSError with the
    reason when it cannot be had (a port in use, a name that does not resolve)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise OSError(f"{host}: {error.strerror}") from None
    listening = socket.socket(family, kind, proto)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(128)
    except OSError as error:
        listening.close()
        raise OSError(f"{host}:{port}: {error.strerror or error}") from None
    return listening


def address(listening: socket.socket) -> str:
    """The URL a browser reaches the socket at."""
    host, port = listening.getsockname()[:2]
    if listening.family == socket.AF_INET6:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def run(app, listening: socket.socket, open_url: Callable[[], None] = lambda: None) -> None:
    """Serve ``app`` on ``listening`` until Ctrl-C; ``open_url`` is called once it answers."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           server_header=False))

    def when_started():
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            open_url()

    threading.Thread(target=when_started, daemon=True).start()
    server.run(sockets=[listening])


def open_browser(url: str) -> Callable[[], None]:
    def opening() -> None:
        if not webbrowser.open(url):  # no browser here (a server, a container): say so
            print(f"searchkit: warning: no web browser could be opened; open {url} in one",
                  file=sys.stderr)

    return opening
