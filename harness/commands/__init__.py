"""One module per ``overlay-parity`` sub-command; each has ``register(subparsers)`` and sets ``func``."""
