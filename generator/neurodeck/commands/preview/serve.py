"""`neurodeck preview --serve`: the preview on http://127.0.0.1:PORT/, rebuilt on every save and
reloaded in the browser by itself (server-sent events).

The server listens on the loopback interface only and answers three kinds of path, compared as
sent (never decoded into a file name): `/` (which redirects to the first deck's page), each deck's
page `/<deck>.html` (the page inlines its stylesheet, scripts and images) and the event stream
`/events`. Everything else is 404, so no file of the project or the machine is ever served.
The standard library's ThreadingHTTPServer is enough: one local user, a few connections.
"""
from __future__ import annotations

import html
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from neurodeck.apkg import files
from neurodeck.commands.preview.page import _LIVE_CSP, _asset, preview_html, preview_path
from neurodeck.model import Location, Problem
from neurodeck.pipeline.build import compile_deck

HOST = "127.0.0.1"
KEEP_ALIVE_S = 15.0  # a comment on the event stream this often, so that a closed tab is noticed


class LivePreview:
    """The pages being served and their version, rebuilt by `rebuild` and waited on by streams."""

    def __init__(self, manifests: list[Path]):
        self.manifests = manifests
        self.pages: dict[str, bytes] = {}  # "/<deck>.html" -> the page
        self._rendered: dict[str, str] = {}  # the same pages at version 0, to see what changed
        self.version = 0
        self.problems = ""  # the last rebuild's errors, as printed
        self.closed = False
        self._changed = threading.Condition()

    def rebuild(self) -> tuple[bool, list[Problem]]:
        """Compile every deck and render its page; a deck with errors keeps its last good page.
        Returns whether any page changed, and the problems found."""
        problems: list[Problem] = []
        rendered = dict(self._rendered)
        for manifest in self.manifests:
            with files.exclusive(manifest):
                compiled = compile_deck(manifest)
            problems += compiled.problems
            if compiled.ok and compiled.manifest is not None:
                route = "/" + preview_path(compiled.manifest.output, Path()).name
                rendered[route] = preview_html(compiled, live_version=0)
        errors = "\n".join(p.format() for p in sorted(problems, key=lambda p: (p.location, p.message))
                           if p.severity == "error")
        with self._changed:
            changed = rendered != self._rendered
            if changed:
                self.version += 1
                self._rendered = rendered
                marker = '<body data-version="0">'
                self.pages = {route: page.replace(marker, f'<body data-version="{self.version}">', 1).encode()
                              for route, page in rendered.items()}
            if changed or errors != self.problems:
                self.problems = errors
                self._changed.notify_all()
        return changed, problems

    def wait(self, seen: tuple[int, str] | None, timeout: float) -> tuple[int, str]:
        """The (version, problems) once they differ from `seen`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or (self.version, self.problems) != seen, timeout)
            return self.version, self.problems

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def first_route(self) -> str | None:
        with self._changed:
            return next(iter(self.pages), None)

    def waiting_page(self) -> bytes:
        """What `/` shows before any deck could be built: the errors, updated live."""
        return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f'<meta http-equiv="Content-Security-Policy" content="{_LIVE_CSP}">\n'
                f"<title>neurodeck preview</title>\n<style>\n{_asset('page.css')}</style>\n</head>\n"
                f'<body data-version="{self.version}">\n<h1 class="pv-top">No deck could be built yet</h1>\n'
                f'<div id="pv-live" role="status">{html.escape(self.problems)}</div>\n'
                f"<script>\n{_asset('live.js')}</script>\n</body>\n</html>\n").encode()


def make_server(state: LivePreview, port: int) -> ThreadingHTTPServer:
    """An HTTP server for `state` on 127.0.0.1:`port` (0: a free port); OSError if it cannot listen."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "neurodeck-preview"
        sys_version = ""

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            listening = self.server.server_address[1]  # type: ignore[index]  # (host, port) for AF_INET
            # A page of another site must not reach this server through a DNS name it controls.
            if self.headers.get("Host") not in (f"{HOST}:{listening}", f"localhost:{listening}"):
                self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host\n", "text/plain; charset=utf-8")
                return
            path = self.path.split("?", 1)[0]
            if path == "/events":
                self._events()
                return
            if path == "/":
                first = state.first_route()
                if first is None:
                    self._send(HTTPStatus.OK, state.waiting_page(), "text/html; charset=utf-8")
                else:
                    self.send_response(HTTPStatus.FOUND)
                    self.send_header("Location", first)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                return
            page = state.pages.get(path)
            if page is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            else:
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")

        def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen: tuple[int, str] | None = None
            try:
                while not state.closed:
                    now = state.wait(seen, KEEP_ALIVE_S)
                    if now == seen:
                        self.wfile.write(b": still here\n\n")
                    else:
                        data = "".join(f"data: {line}\n" for line in (now[1].split("\n") if now[1] else [""]))
                        self.wfile.write(f"event: problems\n{data}\nevent: page\ndata: {now[0]}\n\n".encode())
                        seen = now
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                return  # the tab was closed or reloaded

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # requests are not worth a line each

    server = ThreadingHTTPServer((HOST, port), Handler)
    server.daemon_threads = True  # open event streams must not keep the process alive
    return server


def serve(manifests: list[Path], port: int, out_dir: Path, on_ready: Callable[[str], None],
          on_rebuild: Callable[[bool, list[Problem]], None], stop: threading.Event | None = None) -> list[Problem]:
    """Build the pages, serve them on 127.0.0.1:`port` and rebuild them after each burst of
    changes to the decks' sources, until `stop` is set or KeyboardInterrupt. `on_ready` gets the
    URL once the server listens; `on_rebuild` each rebuild's result. Returns the problems that
    kept the server from starting (the port is taken, say), else nothing when stopped."""
    from neurodeck.commands.watch import source_changes

    state = LivePreview(manifests)
    try:
        server = make_server(state, port)  # listening now: requests wait until the first build
    except OSError as exc:
        return [Problem(Location(f"{HOST}:{port}"), f"cannot serve the preview: {exc.strerror or exc}",
                        "choose another --port (0 picks a free one)")]
    thread = threading.Thread(target=server.serve_forever, name="preview-server", daemon=True)
    try:
        for _ in source_changes(manifests, out_dir, stop):  # the first item comes at once
            on_rebuild(*state.rebuild())
            if not thread.is_alive():
                thread.start()
                on_ready(f"http://{HOST}:{server.server_address[1]}/")
    finally:
        state.close()
        if thread.is_alive():
            server.shutdown()
            thread.join(timeout=5)
        server.server_close()
    return []
