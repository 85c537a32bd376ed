"""The only modules that touch the outside world: git, files, storage, subprocesses."""
