"""The offline guard blocks real outgoing connections and lets loopback through."""

from __future__ import annotations

import os
import socket
import threading
import urllib.request

import pytest

from medletter.privacy.guard import NetworkBlockedError


def test_blocks_connection_naming_host(offline):
    with pytest.raises(NetworkBlockedError, match="huggingface.co"):
        socket.create_connection(("huggingface.co", 443), timeout=2)
    with pytest.raises(NetworkBlockedError, match="93.184.216.34"):
        s = socket.socket()
        try:
            s.connect(("93.184.216.34", 80))
        finally:
            s.close()
    with pytest.raises(OSError, match="example.org"):
        urllib.request.urlopen("http://example.org/", timeout=2)
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_private_range_is_blocked_too(offline):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(NetworkBlockedError, match="10.1.2.3"):
            s.sendto(b"x", ("10.1.2.3", 53))
    finally:
        s.close()


def test_loopback_allowed(offline):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = []

    def accept():
        c, _ = srv.accept()
        got.append(c.recv(5))
        c.close()

    t = threading.Thread(target=accept)
    t.start()
    with socket.create_connection(("localhost", port), timeout=5) as c:
        c.sendall(b"hello")
    t.join(5)
    srv.close()
    assert got == [b"hello"]


def test_cli_installs_guard(tmp_path):
    import subprocess
    import sys

    code = (
        "import socket, sys\n"
        "from medletter.cli import app\n"
        "try:\n    app(['schema', '--kind', 'letter'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "try:\n    socket.create_connection(('pypi.org', 443), timeout=2)\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "NetworkBlockedError" in out.stdout and "pypi.org" in out.stdout


def test_allowing_lets_exactly_the_named_host_through(offline):
    """`--server URL`: the one host the user named passes while the block runs, no other, and not after.
    Checked on the guard's decision alone: no packet is sent (192.0.2.0/24 is TEST-NET-1)."""
    from medletter.privacy import guard

    def check(host):
        guard._check_address(socket.AF_INET, (host, 443))

    with pytest.raises(NetworkBlockedError):
        check("192.0.2.10")
    with guard.allowing("192.0.2.10"):
        check("192.0.2.10")
        with pytest.raises(NetworkBlockedError, match="192.0.2.11"):
            check("192.0.2.11")
        with pytest.raises(NetworkBlockedError, match="huggingface.co"):
            socket.getaddrinfo("huggingface.co", 443)
    with pytest.raises(NetworkBlockedError):
        check("192.0.2.10")
    with guard.allowing("localhost"):  # loopback needs no exception and gets none
        assert guard._allowed == {}
