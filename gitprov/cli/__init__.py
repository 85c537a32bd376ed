"""The typer command line: parse, call one service, render. The only layer that prints."""
