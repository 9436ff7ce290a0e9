"""Where this process stands in a distributed run (``accelerate launch``, ``torchrun``, SLURM's ``srun``).

medletter does not distribute anything itself: the Hugging Face Trainer does, through accelerate (DDP,
FSDP or DeepSpeed, chosen by the accelerate config, see configs/accelerate/). This module only tells the
recipe and the CLI which process they are, so that one process (rank 0) writes the run folder and
prints, and the others wait where they must. Without a launcher every function answers for a single
process, and nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import os


def world_size() -> int:
    """Number of training processes (``WORLD_SIZE``, set by accelerate/torchrun; 1 without them)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def rank() -> int:
    """This process's global rank (0 without a launcher)."""
    return int(os.environ.get("RANK", "0") or 0)


def is_main() -> bool:
    """True in the process that writes the run folder (global rank 0)."""
    return rank() == 0


def init() -> None:
    """Join the process group early (accelerate's ``PartialState``: gloo on CPUs, NCCL on GPUs), so the CLI
    can let rank 0 prepare the data first; a no-op for one process."""
    if world_size() > 1:
        from accelerate import PartialState

        PartialState()


def barrier() -> None:
    """Wait for every rank (a no-op for one process)."""
    if world_size() > 1:
        from accelerate import PartialState

        PartialState().wait_for_everyone()


@contextlib.contextmanager
def main_first():
    """Rank 0 runs the block first (it may create files: the de-identification key, the data splits),
    then the other ranks run it; for one process just the block."""
    if world_size() > 1:
        from accelerate import PartialState

        with PartialState().main_process_first():
            yield
    else:
        yield


def cpu_processes_requested() -> int:
    """N when ``accelerate launch --cpu --num_processes N`` (or a config file with ``use_cpu`` and N processes)
    started this process alone.

    accelerate starts several CPU processes only through ``mpirun`` (``--mpirun_hostfile``); without it its
    simple launcher runs the script once, with no rank in the environment, so a "two-process" CPU run
    trained as one process (the epoch of one process in the logs). medletter notices it from the launcher's
    command line and starts the ranks itself (:func:`relaunch_ranks`). 1 in every other case.
    """
    if os.environ.get("ACCELERATE_USE_CPU", "").lower() != "true" or "WORLD_SIZE" in os.environ:
        return 1
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return 1
    if "launch" not in argv or any(a.startswith("--mpirun_hostfile") for a in argv):
        return 1
    value = _option(argv, "--num_processes") or _option(argv, "--num-processes")
    if value is None:
        cfg_file = _option(argv, "--config_file") or _option(argv, "--config-file")
        if cfg_file:
            try:
                import yaml

                with open(cfg_file, encoding="utf-8") as f:
                    value = (yaml.safe_load(f) or {}).get("num_processes")
            except (OSError, ValueError):
                return 1
    try:
        return max(1, int(value)) if value is not None else 1
    except (TypeError, ValueError):
        return 1


def _option(argv: list[str], name: str) -> str | None:
    """The value of ``name`` in the launcher's arguments (medletter's own options share no name with them)."""
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def relaunch_ranks(n: int, argv: list[str]) -> None:
    """Replace this process by ``torch.distributed.run`` starting ``n`` ranks of the same command on this
    machine (gloo on CPUs, as accelerate's multi-process launcher would); does not return."""
    import socket
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(n), "--master_addr", "127.0.0.1",
           "--master_port", str(port), "--", *argv]
    os.execv(sys.executable, cmd)
