"""Pure data and functions: no I/O, no subprocesses, no printing."""
