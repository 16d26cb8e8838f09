"""Private files in the data directory: the directory 0700, every file in it 0600.

Patient data, token hashes, signing keys and one-time codes live there; no other user of
the machine may read them. Files SQLite makes beside a database (-wal, -shm, -journal)
take the database file's mode, so creating the database 0600 covers them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) 0700; an existing one we own is narrowed to 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty and 0600 if absent; narrow it (and SQLite's companions) if not.

    An existing file is never opened here: closing any descriptor of a database file drops
    the POSIX locks SQLite holds on it in this process (a way to corrupt it)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for companion in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            if companion.stat().st_uid == os.geteuid():
                companion.chmod(0o600)
        except FileNotFoundError:
            continue
    return path
