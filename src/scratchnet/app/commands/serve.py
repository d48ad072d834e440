"""``scratchnet serve``: the draw-a-digit page on a local web server."""

from __future__ import annotations

import argparse
import webbrowser

from ...errors import InvalidArgumentError
from ..api import DigitApi
from ..arguments import file_argument, path_argument
from ..interrupts import uninterrupted
from ..models import MODEL_HELP, STARTER_DATA_DIR_HELP, choose_model
from ..server import DigitServer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_PORT = 65535
STOP_GRACE_SECONDS = 5  # a stopped server answers the requests in flight, for this long


def add_parser(commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="a page in the browser to draw digits and see the network read them",
        description="Serve the draw-a-digit page: draw or upload a digit and watch the "
        "network's class probabilities, its 28x28 input and its hidden layers. Ctrl-C stops.",
    )
    serve.add_argument(
        "--model",
        type=file_argument,
        help=MODEL_HELP,
    )
    serve.add_argument(
        "--host",
        type=host_name,
        default=DEFAULT_HOST,
        help=f"address to listen on; 0.0.0.0 opens it to your network (default: {DEFAULT_HOST})",
    )
    serve.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port to listen on, 0 for any free one (default: {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--open", action="store_true", help="open the page in the web browser (default: off)"
    )
    serve.add_argument("--data-dir", type=path_argument, help=STARTER_DATA_DIR_HELP)
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    chosen = choose_model(args.model, args.data_dir, say=say)
    server = listen(args.host, args.port, DigitApi(chosen))
    try:
        say(f"the draw-a-digit page is at {server.url} (Ctrl-C stops)")
        if server.every_address:
            say(
                f"other machines can reach it too, at this machine's addresses (--host "
                f"{args.host} listens on every one) on port {server.server_address[1]}"
            )
        elif not server.loopback:
            say("other machines can reach it too (--host is not a loopback address)")
        if args.open and not webbrowser.open(server.url):
            say("found no web browser to open; open the address yourself")
        server.serve_forever()
    except KeyboardInterrupt:
        with uninterrupted():  # the answers being computed are given, for a moment
            server.finish_answers(STOP_GRACE_SECONDS)
        say("stopped")
    finally:
        server.server_close()
    return 0


def say(line: str) -> None:
    """A line for the user, at once (the address must reach a pipe before serving)."""
    print(f"scratchnet: {line}", flush=True)


def listen(host: str, port: int, api: DigitApi) -> DigitServer:
    """A server bound to host:port, or one line saying why it cannot be."""
    try:
        return DigitServer((host, port), api)
    except OSError as error:  # address in use, unknown host, no permission
        raise InvalidArgumentError(
            f"cannot listen on {host} port {port}: {error.strerror or error}; "
            "choose another --port (0: any free one) or --host"
        ) from None


def host_name(text: str) -> str:
    """An argparse type: a host name or address, an IPv6 one with or without the brackets
    a URL writes around it ([::1]); never empty, which would listen on every interface."""
    if not text:
        raise argparse.ArgumentTypeError("an empty host; 0.0.0.0 listens on every interface")
    if text.startswith("[") and text.endswith("]"):
        return text[1:-1]
    return text


def port_number(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) > MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"port must be a number from 0 to {MAX_PORT}, got {text!r}"
        )
    return int(text)
