"""One module per CLI command (``add_arguments`` + ``main``); see ``hedge/cli.py``."""
