"""medletter.memory: glibc's malloc keeps freed memory during training (fewer page faults per step)."""

import platform
import subprocess
import sys

import pytest

glibc = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not glibc, reason="glibc only (this project's machines are Debian)")
def test_keep_freed_memory_switches_malloc_once_and_can_be_turned_off():
    code = "from medletter.memory import keep_freed_memory as k; print(k(), k())"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["True", "True"]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"MEDLETTER_MALLOC": "default", "PATH": "/usr/bin:/bin"})
    assert r.stdout.split() == ["False", "False"]


@pytest.mark.skipif(not glibc, reason="glibc only (this project's machines are Debian)")
def test_give_back_returns_the_kept_heap_after_training():
    code = (
        "from medletter.memory import keep_freed_memory as k, give_back_freed_memory as g\n"
        "def rss(): return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])\n"
        "print(g()); k(); b = bytearray(400 * 1024 * 1024); del b\n"
        "kept = rss(); print(g(), g(), (kept - rss()) // 1024)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    nothing, first, second, freed_mib = r.stdout.split()
    assert (nothing, first, second) == ("False", "True", "False")  # only after keep_freed_memory, once
    assert int(freed_mib) > 300, r.stdout  # the 400 MiB freed block was kept, and is returned
