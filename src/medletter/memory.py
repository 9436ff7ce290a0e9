"""Keep freed memory in the process during training (glibc's malloc, Linux).

PyTorch's CPU allocator hands every activation back to malloc when a step is done, and glibc returns
large blocks to the kernel at once (they are mmap'd above its mmap threshold, and the heap is trimmed
above its trim threshold). The next step allocates the same sizes again, and the kernel must map and
zero every page anew: measured during the demo's training on 2 cores, about 87,000 page faults per
second and a quarter to a half of the CPU time in the kernel. Telling malloc to serve large blocks from
its heap and never to trim it keeps those pages: the process's peak memory stays what it was (the
activations of one step), the faults and the kernel time go.

``MEDLETTER_MALLOC=default`` leaves malloc as it is (e.g. to measure the difference).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_GLIBC_TRIM_THRESHOLD, _GLIBC_MMAP_MAX = 128 * 1024, 65536  # glibc's defaults
_done = False


def keep_freed_memory() -> bool:
    """Switch glibc's malloc to keep freed memory (once per process); True if it did."""
    global _done
    if _done:
        return True
    if os.environ.get("MEDLETTER_MALLOC", "").lower() == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_MAX, 0) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    _done = ok
    log.debug("malloc keeps freed memory: %s", ok)
    return ok


def give_back_freed_memory() -> bool:
    """After training: malloc's usual thresholds again, and the freed heap returned to the kernel
    (``malloc_trim``), so that what the process does next (export, drafting) does not sit on training's
    peak. True if there was something to undo."""
    global _done
    if not _done:
        return False
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(_M_MMAP_MAX, _GLIBC_MMAP_MAX)
    libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_TRIM_THRESHOLD)
    libc.malloc_trim(0)
    _done = False
    return True
