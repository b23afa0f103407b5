"""Which addresses are this machine's own, and the check that keeps a page served on one of
them from being read by another site through DNS rebinding (a name of theirs made to point at
127.0.0.1): a request must name this machine in its Host header."""

import ipaddress

from starlette.responses import JSONResponse, PlainTextResponse

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is reachable
    from this machine only."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str:
    """The host of a Host header, without its port: "[::1]:8000" -> "::1"."""
    host, port = header, ""
    if header.startswith("["):  # an IPv6 address: "[::1]" or "[::1]:8000", nothing else
        address, _, rest = header[1:].partition("]")
        if rest[:1] in ("", ":"):
            host, port = address, rest[1:]
    elif header.count(":") == 1:
        host, _, port = header.partition(":")
    return host if port.isdigit() or not port else header


class LoopbackHostOnly:
    """ASGI middleware: a request whose Host header names anything but this machine gets a
    400 (what a page of another site, its name rebound to 127.0.0.1, would send)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            host = host_of(headers.get(b"host", b"").decode("latin-1"))
            if not is_loopback(host):
                message = ("this server answers only requests for this machine's own address "
                           "(open the address `searchkit serve` printed)")
                path = scope.get("path", "")
                if path == "/api" or path.startswith("/api/"):  # (as every answer there)
                    refused = JSONResponse({"error": message}, status_code=400)
                else:
                    refused = PlainTextResponse(f"400: {message}\n", status_code=400)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
