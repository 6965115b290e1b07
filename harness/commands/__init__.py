"""One module per ``overlay-parity`` sub-command, each a plain function over library calls.

The command line itself (every flag, its help and examples, the dispatch and the exit codes) lives in
:mod:`harness.cli`; a command module never parses arguments and never imports another command module.
"""
