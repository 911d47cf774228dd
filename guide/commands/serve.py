"""`guide serve`: the terminal app in a browser, for a classroom where students only have a browser.

textual-serve starts one app process per browser tab, with the same Python that runs this command,
so each student gets their own walk. Documents the app exports reach the student as downloads.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "serve", parents=[common], help="serve the app to web browsers",
        description="Serve the guide app over HTTP so it can be used in a web browser: every browser tab gets "
                    "its own app. Bind to 0.0.0.0 (--host) to let other machines of a classroom connect; the "
                    "app has no login, so do that only on a network you trust.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})")
    parser.add_argument("--public-url", metavar="URL", default=None,
                        help="the address browsers use, when it is not the one they connected to (behind a proxy)")
    parser.set_defaults(handler=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def app_command(bank: Path | None) -> str:
    """The shell command textual-serve runs for each browser tab: this Python, this bank."""
    words = [sys.executable, "-m", "guide"]
    if bank is not None:
        words += ["--bank", str(bank.resolve())]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    from guide.frontend import load_bank_option

    bank = load_bank_option(args)  # a broken bank fails here, once, not in every tab
    server = make_server(app_command(args.bank), args.host, args.port, args.public_url, bank.meta.title)
    server.serve()
    return 0


def make_server(command: str, host: str, port: int, public_url: str | None, title: str):
    from textual_serve.server import Server

    class GuideServer(Server):
        """A textual-serve Server whose page points the browser back at the address it used.

        textual-serve writes `http://HOST:PORT` into the page as the websocket address; with
        `--host 0.0.0.0` that address is unusable from a student's machine. Unless a public URL is
        given, each page is built for the host name the browser asked for.
        """

        async def handle_index(self, request):
            if public_url is None:
                # No await happens before the page is rendered, so no other request sees this value.
                self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

    return GuideServer(command, host=host, port=port, title=title, public_url=public_url)
