"""overlay-parity harness: parity, coverage, secret and policy checks for GitOps overlay trees.

The harness never imports the reference renderer; it drives any renderer through
:mod:`harness.renderer_api`.

Imported by one of the ``overlay-parity*`` console scripts, this package first makes an interrupt during
start-up (while the command's modules are still being imported, before :func:`harness.cli.guarded` runs)
end the process with one line and exit 130 instead of a ``KeyboardInterrupt`` traceback (``guarded`` hands
SIGINT back to Python as soon as the command starts, so its cleanup runs as usual), and gives a closed
standard stream ``/dev/null``.
"""

import _signal  # type: ignore[import-not-found]  # C module: `signal` imports enum, too slow to wait for
import os
import sys
from types import FrameType

__all__ = ["__version__", "restore_interrupts"]
__version__ = "0.1.0"


def _interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"overlay-parity: interrupted\n")
    os._exit(130)  # nothing to clean up yet: no command has started


def restore_interrupts() -> None:
    """Give SIGINT back to Python (``KeyboardInterrupt``) if the start-up handler is still in place."""
    if _signal.getsignal(_signal.SIGINT) is _interrupted_while_starting:
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)


def _standard_streams() -> None:
    """Give a closed stdin, stdout or stderr (``cmd >&-``) ``/dev/null``: what would have been printed goes
    nowhere, as into a closed pipe, and no file the command opens later can take descriptor 1 or 2 and
    receive the terminal output."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            mode = "r" if fd == 0 else "w"
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="backslashreplace", closefd=False))  # noqa: SIM115 (the process-long stream)


if os.path.basename(sys.argv[0] if sys.argv else "").startswith("overlay-parity"):
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)
    _standard_streams()
