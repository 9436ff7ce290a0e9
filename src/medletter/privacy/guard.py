"""The offline guard: nothing leaves the hospital.

:func:`install` sets the Hugging Face offline variables and patches the socket layer so that any
attempt to resolve or connect to a host that is not loopback fails at once with
:class:`NetworkBlockedError` naming the host. Loopback (127.0.0.0/8, ::1, ``localhost``) and Unix
sockets stay allowed, so the local review app and its tests work.
"""

from __future__ import annotations

import ipaddress
import os
import socket

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


def _is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    h = str(host).strip("[]").lower()
    if h in _LOCAL_NAMES or h.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(h.split("%", 1)[0])
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
    if not _is_local(host):
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
        if not _is_local(host):
            raise NetworkBlockedError(host.decode() if isinstance(host, bytes) else str(host), port)
        return orig_getaddrinfo(host, port, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


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
