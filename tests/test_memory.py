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
