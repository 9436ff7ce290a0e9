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


@pytest.mark.skipif(not glibc, reason="glibc only (this project's machines are Debian)")
def test_long_commands_start_again_under_jemalloc_which_keeps_and_gives_back():
    """reexec_with_jemalloc starts the program again with jemalloc preloaded (once); keep_freed_memory then
    relies on it, and give_back purges what it kept. MEDLETTER_MALLOC=glibc or default: no second start."""
    from medletter.memory import jemalloc_library

    if jemalloc_library() is None:
        pytest.skip("libjemalloc2 not installed (make jemalloc)")
    child = (
        "from medletter.memory import jemalloc_loaded, keep_freed_memory as k, give_back_freed_memory as g\n"
        "def rss(): return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])\n"
        "print(jemalloc_loaded(), k()); b = bytearray(400 * 1024 * 1024); del b\n"
        "kept = rss(); print(g(), (kept - rss()) // 1024)\n"
    )
    code = f"from medletter.memory import reexec_with_jemalloc as r; r(['-c', {child!r}]); print('glibc')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, kept, given, freed_mib = r.stdout.split()
    assert (loaded, kept, given) == ("True", "True", "True"), r.stdout
    assert int(freed_mib) > 300, r.stdout  # jemalloc kept the freed 400 MiB until give_back purged it
    for mode in ("glibc", "default"):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"MEDLETTER_MALLOC": mode, "PATH": "/usr/bin:/bin"})
        assert r.stdout.split() == ["glibc"]
