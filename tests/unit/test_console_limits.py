"""Request bodies are capped before they are read: a declared Content-Length over the cap
is refused at once, a chunked body as soon as it passes the cap; in the app (TestClient)
and in a real `balagh console` process on 127.0.0.1 fed by a raw socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_console import TestClient, login, web  # noqa: F401 (the fixture)

CAP = 16384  # console.max_body_bytes' default
HUGE = 400 * 1024 * 1024


def test_a_login_body_over_the_cap_is_refused(web) -> None:  # noqa: F811
    client, _feed, _accounts = web
    answer = client.post("/login", content=b"name=amina&password=" + b"x" * CAP,
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413 and str(CAP) in answer.text
    assert answer.headers["x-frame-options"] == "DENY"  # the security headers still go


def test_a_chunked_body_is_counted_as_it_comes(web) -> None:  # noqa: F811
    client, _feed, _accounts = web
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(64):
            sent += 4096
            yield b"x" * 4096

    answer = client.post("/login", content=chunks(),
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413


def test_an_authenticated_post_is_capped_before_its_token_is_looked_for(web) -> None:  # noqa: F811
    client, feed, _accounts = web
    csrf = login(client, "amina")
    answer = client.post("/monitor", data={"reference": "1003", "csrf": csrf,
                                           "pad": "x" * CAP})
    assert answer.status_code == 413 and feed.rung == []
    assert client.post("/monitor", data={"reference": "1003", "csrf": csrf}).status_code == 202


# -------------------------------------------------------- a real console process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def console_process(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """`balagh console` on 127.0.0.1 with its own data folder and no PBX to reach."""
    port = _free_port()
    env = {**os.environ, "BALAGH_DATA_DIR": str(tmp_path), "BALAGH_PBX_DIR": str(tmp_path),
           "BALAGH_AMI_PORT": str(_free_port()), "BALAGH_CONSOLE_SECURE_COOKIES": "false",
           "BALAGH_SUPERVISORS_FILE": str(tmp_path / "supervisors.yaml")}
    log = (tmp_path / "console.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "balagh", "console", "--port", str(port)],
                               stdout=log, stderr=log, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "console.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "balagh console did not start"
                time.sleep(0.1)
        yield process.pid, port
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _head(port: int, extra: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Content-Type: application/x-www-form-urlencoded\r\n{extra}\r\n".encode())
    return sock


def _stream_until_answered(sock: socket.socket, chunk: bytes, limit: int) -> tuple[bytes, int]:
    """Send body bytes until the server answers (or `limit` bytes went); what it said."""
    sent = 0
    sock.setblocking(False)
    answer = b""
    while sent < limit:
        try:
            answer += sock.recv(65536)
            if answer:
                break
        except BlockingIOError:
            pass
        except ConnectionError:
            break
        try:
            sent += sock.send(chunk)
        except BlockingIOError:  # the server is not reading: wait for its answer
            sock.settimeout(10)
            answer += sock.recv(65536)
            break
        except ConnectionError:
            break
    sock.settimeout(10)
    try:
        while b"\r\n\r\n" not in answer and (more := sock.recv(65536)):
            answer += more
    except ConnectionError:
        pass
    return answer, sent


def test_a_400_mb_login_is_refused_before_it_is_read(console_process) -> None:
    pid, port = console_process
    before = _rss_kib(pid)
    sock = _head(port, f"Content-Length: {HUGE}\r\n")
    with sock:
        answer, sent = _stream_until_answered(sock, b"x" * 65536, HUGE)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < HUGE
    grown = _rss_kib(pid) - before
    print(f"\nRSS {before} KiB -> {before + grown} KiB after a {HUGE} byte Content-Length, "
          f"{sent} bytes sent before the 413")
    assert grown < 64 * 1024  # KiB: far from the 400 MB asked (the old console took 800 MB)


def test_a_chunked_login_is_cut_off_at_the_cap(console_process) -> None:
    pid, port = console_process
    before = _rss_kib(pid)
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    sock = _head(port, "Transfer-Encoding: chunked\r\n")
    with sock:
        answer, sent = _stream_until_answered(sock, chunk, HUGE)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    print(f"\nchunked: RSS {before} KiB -> {_rss_kib(pid)} KiB, {sent} bytes sent before the 413")
    assert _rss_kib(pid) - before < 64 * 1024


def test_a_url_or_headers_past_the_bound_are_refused(console_process) -> None:
    """A request line (query) or header block still growing past 16 KiB gets 400."""
    _pid, port = console_process
    limit = 64 * 1024 * 1024  # a server without the bound reads all of it, never answering
    for start, filler in ((b"GET /login?q=", b"q" * 4096),
                          (b"GET /login HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"p" * 4096)):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(start)
            answer, sent = _stream_until_answered(sock, filler, limit)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        # What was sent before the answer came back includes what loopback's socket
        # buffers took (a few MB on a busy machine), which the server never read.
        assert sent < limit // 4, sent
    assert httpx.get(f"http://127.0.0.1:{port}/login").status_code == 200  # still serving
