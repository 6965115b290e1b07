"""pre-commit hook entry points of overlay-parity (see ``.pre-commit-hooks.yaml``), a few lines each.

Each module has ``main(argv=None) -> int`` and is installed as a console script named after its hook id
(``overlay-parity-<hook-id>``, see ``[project.scripts]``): pre-commit installs this package into the hook
environment and runs the script, so a consuming repository's own ``hooks/`` directory can never shadow
this package. Inside this repository ``python -m hooks.<module>`` runs the same function. The work is done
by the library and the ``overlay-parity`` command line (:mod:`harness.cli`); exit codes are the CLI's:
0 clean, 1 findings, 2 bad input.
"""
