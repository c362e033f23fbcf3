"""`neurodeck preview --serve`: the page on 127.0.0.1, rebuilt on save and reloaded by itself,
serving nothing but the page and its event stream; stopped cleanly by Ctrl-C and SIGTERM."""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO
from neurodeck.commands.preview.serve import LivePreview, make_server
from test_preview import browser  # noqa: F401 (the module's Chromium, a fixture)

MANIFEST = Path("decks/test-deck.yaml")
PAGE = "/test-deck.html"


@pytest.fixture
def server(project):
    """The test project's preview served in this process on a free port."""
    state = LivePreview([MANIFEST])
    state.rebuild()
    served = make_server(state, 0)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield state, served.server_address[1]
    state.close()
    served.shutdown()
    served.server_close()


def get(port: int, path: str, host: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    """GET `path` exactly as written (no normalisation by the client)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host or f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def test_the_server_serves_the_page_and_redirects_to_it(server):
    state, port = server
    status, _, headers = get(port, "/")
    assert status == 302 and headers["Location"] == PAGE
    status, body, headers = get(port, PAGE)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Where were mirror neurons first recorded?" in body and b'id="pv-phone"' in body
    assert b"connect-src 'self'" in body and b'<body data-version="1">' in body


@pytest.mark.parametrize("path", [
    "/../decks/test-deck.yaml", "/decks/test-deck.yaml", "/cards/a.yaml", "/cards/media/insula.png",
    "/%2e%2e/decks/test-deck.yaml", "/..%2fdecks%2ftest-deck.yaml", "/%2E%2E%2Fcards%2Fa.yaml",
    "/test-deck.html/../../decks/test-deck.yaml", "/./test-deck.html", "//etc/passwd", "/etc/passwd",
    "/" + str(REPO / "decks" / "neurobiology-of-intimacy.yaml").lstrip("/"), str(REPO / "README.md"),
    "/..\\decks\\test-deck.yaml", "/test-deck.yaml", "/test-deck.apkg", "/decks/test-deck.lock", "/favicon.ico",
    "http://127.0.0.1/../decks/test-deck.yaml",
])
def test_nothing_but_the_page_and_its_events_is_served(server, path):
    _, port = server
    status, body, _ = get(port, path)
    assert status == 404 and body == b"not found\n"


def test_another_host_name_is_refused(server):
    _, port = server
    assert get(port, PAGE, host=f"attacker.example:{port}")[0] == 421
    assert get(port, PAGE, host=f"localhost:{port}")[0] == 200


def test_it_listens_on_the_loopback_interface_only(server):
    _, port = server
    outward = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        outward.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outward address
        address = outward.getsockname()[0]
    finally:
        outward.close()
    if address.startswith("127."):
        pytest.fail("this machine has no address but loopback to test with")
    with pytest.raises(OSError):
        socket.create_connection((address, port), timeout=2).close()


def test_a_failed_rebuild_keeps_the_page_and_reports_the_errors(server, project):
    state, port = server
    before = get(port, PAGE)[1]
    (project / "cards" / "a.yaml").write_text("subtopic: [broken\n")
    changed, problems = state.rebuild()
    assert not changed and any("never closed" in p.message for p in problems)
    assert get(port, PAGE)[1] == before and "cards/a.yaml:1:11" in state.problems
    assert state.rebuild()[0] is False  # the same errors again: nothing new


# ---- the command, in a browser -----------------------------------------------------------------

def start(project: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "generator"))
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "neurodeck", "preview", "--serve", "--port", "0"], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    assert found, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, found.group()


def stop(proc: subprocess.Popen, signum: int) -> tuple[int, str]:
    proc.send_signal(signum)
    try:
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    return code, proc.stderr.read()


def wait_until(page, expression: str, timeout: float) -> bool:
    """Poll `expression` in the page (the page's CSP forbids the eval that wait_for_function
    needs) through reloads, until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.evaluate(expression):
                return True
        except Exception:  # the page is reloading: its context is gone for a moment
            pass
        time.sleep(0.02)
    return False


def test_the_open_page_shows_an_edit_within_two_seconds(project, browser):  # noqa: F811
    proc, url = start(project)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        page.wait_for_selector("body[data-ready]", state="attached")
        assert page.url == url.rstrip("/") + PAGE
        assert "Single-unit recordings." in page.content()
        page.evaluate("window.notReloadedByHand = true")

        # night mode and phone width
        page.click("#pv-night")
        assert "nightMode" in page.evaluate("document.body.className")
        wide = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
        page.click("#pv-phone")
        narrow = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
        assert wide > 1000 and narrow <= 390
        assert page.evaluate("getComputedStyle(document.querySelector('.pv-sides')).gridTemplateColumns").count(
            "px") == 1  # question above answer, as on a phone
        page.wait_for_timeout(300)  # the event stream is open

        cards = project / "cards" / "a.yaml"
        edited_at = time.monotonic()
        cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited while serving."))
        assert wait_until(page, "document.body && document.body.textContent.includes('Edited while serving.')", 2.0)
        shown_after = time.monotonic() - edited_at
        assert shown_after < 2.0
        assert not page.evaluate("window.notReloadedByHand === true")  # the page reloaded itself
        page.wait_for_selector("body[data-ready]", state="attached")
        assert page.evaluate("document.body.getAttribute('data-version')") == "2"
        assert page.evaluate("document.body.classList.contains('pv-phone')")  # the toggle is remembered
        print(f"edit shown after {shown_after:.2f} s")

        # a broken file: the page stays and shows the error, without reloading
        page.evaluate("window.stillThisPage = true")
        cards.write_text("subtopic: [broken\n")
        assert wait_until(page, "!document.getElementById('pv-live').hidden", 5.0)
        assert "cards/a.yaml:1:11" in page.text_content("#pv-live")
        assert page.evaluate("window.stillThisPage === true")
        origins = {re.match(r"https?://[^/]+", r).group() for r in requests if r.startswith("http")}
        assert origins == {url.rstrip("/")}  # nothing but the server itself
    finally:
        context.close()
        code, errors = stop(proc, signal.SIGTERM)
    # watchfiles turns a signal that arrives while it waits into KeyboardInterrupt: SIGTERM ends
    # the command as Ctrl-C does
    assert code == 0 and "Stopped serving." in errors and "Traceback" not in errors, errors
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_ctrl_c_stops_the_server_cleanly(project):
    proc, url = start(project)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    events = socket.create_connection(("127.0.0.1", port), timeout=5)  # an open event stream
    events.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    received = b""
    while b"event: page" not in received:  # the headers and the first event may come apart
        chunk = events.recv(4096)
        assert chunk, received
        received += chunk
    code, errors = stop(proc, signal.SIGINT)
    events.close()
    assert code == 0 and "Stopped serving." in errors and "Traceback" not in errors, errors


def test_a_taken_port_is_a_message_not_a_traceback(project):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "neurodeck", "preview", "--serve", "--port", str(port)],
                              cwd=project, capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONPATH=str(REPO / "generator")))
    finally:
        taken.close()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"127.0.0.1:{port}: error: cannot serve the preview" in done.stderr and "--port" in done.stderr
