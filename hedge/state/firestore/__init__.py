"""The one-way state sync to Firestore: state files in, document writes out, never a read.

Owns: the package's parts — ``layout`` (which document holds what), ``pending`` (the bounded
newest-wins queue), ``writer`` (the only code touching the Firestore client, and only its write
calls) and ``service`` (the loop that reads the state files, queues changes and commits them).
docs/firestore.md describes the layout and the guarantees.

Must never: read Firestore (tests/unit/state/test_firestore_one_way.py scans this package), run on
the tick path, or log a credential.
"""
