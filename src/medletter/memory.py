"""Memory allocation during training (Linux): keep freed memory in the process, and use jemalloc where installed.

PyTorch's CPU allocator hands every activation back to malloc when a step is done, and glibc returns
large blocks to the kernel at once (they are mmap'd above its mmap threshold, and the heap is trimmed
above its trim threshold). The next step allocates the same sizes again, and the kernel must map and
zero every page anew: measured during the demo's training on 2 cores, about 87,000 page faults per
second and a quarter to a half of the CPU time in the kernel. Telling malloc to serve large blocks from
its heap and never to trim it keeps those pages: the faults and the kernel time go.

glibc's heap kept this way fragments as the examples' lengths vary: over the demo's first 25 steps the
process grew from 4.6 to 8.4 GiB and its steps slowed from ~290 to ~250 tokens/s. jemalloc (Debian's
``libjemalloc2``, which ``make demo`` installs) keeps freed memory by size class instead: the same 30 steps
at 296 instead of 250 tokens/s, 5.3 instead of 7.4 GiB (``benchmarks/RESULTS.md``). Open: training in bf16
on a 2-core Zen 5, jemalloc's process grows by about 200 MiB a step after the first 25 (18.7 GiB at the end
of the demo's 85 steps; glibc kept: 7.9 GiB after 60 steps at 0.89x the speed; fp32 under jemalloc stays at
5 GiB). It must be loaded when the process starts, so the long commands (``medletter train``, ``demo``, ``compare``) start themselves
again once with ``LD_PRELOAD`` (:func:`reexec_with_jemalloc`) when the library is installed; glibc's
setting above is the fallback.

``MEDLETTER_MALLOC=default`` leaves malloc as it is (no jemalloc, glibc untouched; e.g. to measure the
difference); ``MEDLETTER_MALLOC=glibc``: glibc kept as above, no jemalloc.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_GLIBC_TRIM_THRESHOLD, _GLIBC_MMAP_MAX = 128 * 1024, 65536  # glibc's defaults
_done: str | None = None  # "glibc" or "jemalloc" once keep_freed_memory has switched
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"  # never hand freed pages back on its own (give_back does)
_REEXEC_MARK = "MEDLETTER_JEMALLOC_REEXEC"


def _mode() -> str:
    return os.environ.get("MEDLETTER_MALLOC", "").strip().lower()


def jemalloc_loaded() -> bool:
    """True when jemalloc is this process's malloc (loaded with LD_PRELOAD)."""
    try:
        with open("/proc/self/maps") as f:
            return any("libjemalloc" in line for line in f)
    except OSError:
        return False


def jemalloc_library() -> str | None:
    """The installed jemalloc as the dynamic linker finds it (``libjemalloc.so.2``), or None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes.util

    # ldconfig's cache, as the dynamic linker resolves LD_PRELOAD (dlopen would fail here: jemalloc's
    # thread-local storage needs it loaded at start)
    return ctypes.util.find_library("jemalloc")


def reexec_with_jemalloc(python_args: list[str]) -> None:
    """Start this program again as ``python *python_args`` with jemalloc preloaded, if it is installed and
    not yet loaded; returns (doing nothing) otherwise, or when ``MEDLETTER_MALLOC`` says so. Call it first
    thing: ``os.execve`` replaces the process (same PID, same parent)."""
    if _mode() in ("default", "glibc") or os.environ.get(_REEXEC_MARK) or jemalloc_loaded():
        return
    lib = jemalloc_library()
    if lib is None:
        log.debug("jemalloc not installed: glibc's malloc, kept (apt-get install libjemalloc2 for ~1.2x training)")
        return
    env = dict(os.environ)
    env["LD_PRELOAD"] = f"{lib} {env['LD_PRELOAD']}" if env.get("LD_PRELOAD") else lib
    env.setdefault("MALLOC_CONF", JEMALLOC_CONF)
    env[_REEXEC_MARK] = "1"  # once: if the preload does not take, the second start goes on with glibc
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *python_args], env)


def keep_freed_memory() -> bool:
    """Keep freed memory in the process (once per process); True if malloc does now: jemalloc (configured
    by :data:`JEMALLOC_CONF` when this program preloaded it), else glibc switched by ``mallopt``."""
    global _done
    if _done:
        return True
    if _mode() == "default" or not sys.platform.startswith("linux"):
        return False
    if jemalloc_loaded():
        _done = "jemalloc"
        return True
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_MAX, 0) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    _done = "glibc" if ok else None
    log.debug("malloc keeps freed memory: %s", ok)
    return ok


def give_back_freed_memory() -> bool:
    """After training: the freed memory returned to the kernel (glibc: its usual thresholds again and
    ``malloc_trim``; jemalloc: every arena purged), so that what the process does next (export, drafting)
    does not sit on training's peak. True if there was something to undo."""
    global _done
    if not _done:
        return False
    if _done == "jemalloc":
        try:
            mallctl = ctypes.CDLL(None).mallctl
            mallctl.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
            mallctl(b"arena.4096.purge", None, None, None, 0)  # 4096: MALLCTL_ARENAS_ALL
        except AttributeError:
            pass
        _done = None
        return True
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(_M_MMAP_MAX, _GLIBC_MMAP_MAX)
    libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_TRIM_THRESHOLD)
    libc.malloc_trim(0)
    _done = None
    return True
