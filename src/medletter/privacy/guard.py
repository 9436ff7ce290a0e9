"""The offline guard: nothing leaves the hospital.

:func:`install` sets the Hugging Face offline variables and patches the socket layer so that any
attempt to resolve or connect to a host that is not loopback fails at once with
:class:`NetworkBlockedError` naming the host. Loopback (127.0.0.0/8, ::1, ``localhost``) and Unix
sockets stay allowed, so the local review app and its tests work.

One exception, named by the user on the command line: :func:`allowing` lets connections to exactly
one host through while a block runs (``medletter export fhir --server URL`` sends approved letters to
the hospital's own FHIR server); every other host stays blocked.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from collections.abc import Iterator

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "WANDB_MODE": "disabled",
    "MLFLOW_TRACKING_URI": "file:./mlruns",
    "TOKENIZERS_PARALLELISM": "false",
}


class NetworkBlockedError(ConnectionError):
    """An outgoing connection was attempted while medletter runs offline."""

    def __init__(self, host: str, port: object = None):
        self.host = host
        where = f"{host}:{port}" if port not in (None, 0) else host
        super().__init__(
            f"medletter runs offline: blocked a network connection to {where}. "
            "Nothing may leave the hospital; models and data must be local files."
        )


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
_originals: dict[str, object] = {}
_allowed: dict[str, set[str]] = {}
"""Hosts let through by :func:`allowing`: name -> the addresses it resolved to while allowed."""


def _normal(host: object) -> str:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return str(host).strip("[]").lower().split("%", 1)[0]  # an IPv6 scope (%eth0) is no part of the address


def _is_allowed(host: object) -> bool:
    h = _normal(host)
    return h in _allowed or any(h in addresses for addresses in _allowed.values())


def _is_local(host: object) -> bool:
    if host is None:
        return True
    h = _normal(host)
    if h in _LOCAL_NAMES or h.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        return False
    if ip.is_loopback or ip.is_unspecified:
        return True
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(mapped and mapped.is_loopback)


def _check_address(family: int, address: object) -> None:
    if family == getattr(socket, "AF_UNIX", object()) or not isinstance(address, tuple):
        return
    host, port = address[0], address[1] if len(address) > 1 else None
    if not _is_local(host) and not _is_allowed(host):
        raise NetworkBlockedError(str(host), port)


def install() -> None:
    """Set the offline variables and install the guard (idempotent)."""
    for k, v in OFFLINE_ENV.items():
        if k == "MLFLOW_TRACKING_URI":
            os.environ.setdefault(k, v)  # a local store the user chose is kept
        else:
            os.environ[k] = v
    if _originals:
        return
    _originals["connect"] = socket.socket.connect
    _originals["connect_ex"] = socket.socket.connect_ex
    _originals["sendto"] = socket.socket.sendto
    _originals["getaddrinfo"] = socket.getaddrinfo

    orig_connect = socket.socket.connect
    orig_connect_ex = socket.socket.connect_ex
    orig_sendto = socket.socket.sendto
    orig_getaddrinfo = socket.getaddrinfo

    def connect(self, address):  # type: ignore[no-untyped-def]
        _check_address(self.family, address)
        return orig_connect(self, address)

    def connect_ex(self, address):  # type: ignore[no-untyped-def]
        _check_address(self.family, address)
        return orig_connect_ex(self, address)

    def sendto(self, data, *args):  # type: ignore[no-untyped-def]
        address = args[-1]
        _check_address(self.family, address)
        return orig_sendto(self, data, *args)

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if _is_local(host):
            return orig_getaddrinfo(host, port, *args, **kwargs)
        if not _is_allowed(host):
            raise NetworkBlockedError(host.decode() if isinstance(host, bytes) else str(host), port)
        found = orig_getaddrinfo(host, port, *args, **kwargs)
        name = _normal(host)
        if name in _allowed:  # the addresses of an allowed name may be connected to (only while it is allowed)
            _allowed[name].update(_normal(sockaddr[0]) for *_, sockaddr in found)
        return found

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


@contextlib.contextmanager
def allowing(host: str) -> Iterator[None]:
    """Let connections to exactly ``host`` (a name or an address) through while the block runs.

    For a destination the user named explicitly (``--server URL``): the name, and the addresses it
    resolves to inside the block, are allowed; nothing else is, and all of it is blocked again after.
    """
    name = _normal(host)
    if not name or _is_local(name):
        yield
        return
    fresh = name not in _allowed
    if fresh:
        _allowed[name] = set()
    try:
        yield
    finally:
        if fresh:
            _allowed.pop(name, None)


def uninstall() -> None:
    """Remove the guard (for tests)."""
    if not _originals:
        return
    socket.socket.connect = _originals.pop("connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = _originals.pop("connect_ex")  # type: ignore[method-assign]
    socket.socket.sendto = _originals.pop("sendto")  # type: ignore[method-assign]
    socket.getaddrinfo = _originals.pop("getaddrinfo")  # type: ignore[assignment]
    _originals.clear()


def installed() -> bool:
    return bool(_originals)
