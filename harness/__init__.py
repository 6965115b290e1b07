"""overlay-parity harness: parity, coverage, secret and policy checks for GitOps overlay trees.

The harness never imports the reference renderer; it drives any renderer through
:mod:`harness.renderer_api`.

Imported by one of the ``overlay-parity*`` console scripts, this package first makes an interrupt during
start-up (while the command's modules are still being imported, before :func:`harness.cli.guarded` runs)
end the process with one line and exit 130 instead of a ``KeyboardInterrupt`` traceback; ``guarded`` hands
SIGINT back to Python as soon as the command starts, so its cleanup runs as usual.
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


if os.path.basename(sys.argv[0] if sys.argv else "").startswith("overlay-parity"):
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)
