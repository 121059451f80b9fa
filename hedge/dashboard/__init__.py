"""The operator dashboard (``hedge dashboard``): a Streamlit app over a log dir's state files and journals.

Owns: nothing at import time. ``app.py`` is the Streamlit entry; ``readers.py`` and ``tail.py``
read the files (no Streamlit in them); one module per panel renders.

Must never: write a file, talk to the engine, or be imported by the engine (an import contract).
Importing this package must not import Streamlit (``hedge dashboard`` only needs its path).
"""
