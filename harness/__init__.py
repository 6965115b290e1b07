"""overlay-parity harness: parity, coverage, secret and policy checks for GitOps overlay trees.

The harness never imports the reference renderer; it drives any renderer through
:mod:`harness.renderer_api`.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
