"""Where Bulk Data output files live: the data directory for the embedded store, GridFS
on MongoDB (so any machine can serve a job's files). Files are written once, as a
stream, and read as a stream: memory stays bounded whatever their size."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol, cast

from fhir_server.storage.base import Store

CHUNK = 256 * 1024
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(name: str) -> str:
    """Job ids and file names are ours, but they come back in URLs: nothing else passes."""
    if not _SAFE.match(name) or ".." in name:
        raise ValueError(f"not a bulk file name: {name!r}")
    return name


class FileArea(Protocol):
    def create(self, job: str, name: str) -> IO[bytes]:
        """A new file (replacing one with that name) open for writing; close it when done."""

    def read(self, job: str, name: str) -> Iterator[bytes] | None:
        """The file's bytes in chunks, or None when it does not exist."""

    def size(self, job: str, name: str) -> int | None: ...

    def delete_job(self, job: str) -> None:
        """Every file of the job."""


class DirectoryArea:
    """`DIR/<job>/<name>`, readable by the server's user only."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, job: str, name: str) -> Path:
        return self.root / check_name(job) / check_name(name)

    def create(self, job: str, name: str) -> IO[bytes]:
        path = self._path(job, name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return os.fdopen(fd, "wb", buffering=CHUNK)

    def read(self, job: str, name: str) -> Iterator[bytes] | None:
        path = self._path(job, name)
        if not path.is_file():
            return None
        return _chunks(path)

    def size(self, job: str, name: str) -> int | None:
        path = self._path(job, name)
        return path.stat().st_size if path.is_file() else None

    def delete_job(self, job: str) -> None:
        shutil.rmtree(self.root / check_name(job), ignore_errors=True)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


class GridFSArea:
    """A GridFS bucket in the store's database: files named `<job>/<name>`."""

    def __init__(self, db: Any, bucket: str = "bulk") -> None:
        import gridfs

        self.bucket = gridfs.GridFSBucket(db, bucket_name=bucket)

    def create(self, job: str, name: str) -> IO[bytes]:
        filename = f"{check_name(job)}/{check_name(name)}"
        self._delete(filename)
        return cast(IO[bytes], self.bucket.open_upload_stream(filename, chunk_size_bytes=CHUNK))

    def read(self, job: str, name: str) -> Iterator[bytes] | None:
        import gridfs

        try:
            stream = self.bucket.open_download_stream_by_name(f"{check_name(job)}/{check_name(name)}")
        except gridfs.errors.NoFile:
            return None
        return _stream_chunks(stream)

    def size(self, job: str, name: str) -> int | None:
        found = next(iter(self.bucket.find({"filename": f"{check_name(job)}/{check_name(name)}"})), None)
        return int(found.length) if found is not None else None

    def delete_job(self, job: str) -> None:
        prefix = f"{check_name(job)}/"
        for grid_out in self.bucket.find({"filename": {"$regex": f"^{re.escape(prefix)}"}}):
            self.bucket.delete(grid_out._id)

    def _delete(self, filename: str) -> None:
        for grid_out in self.bucket.find({"filename": filename}):
            self.bucket.delete(grid_out._id)


def _stream_chunks(stream: Any) -> Iterator[bytes]:
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()


def file_area(store: Store, data_dir: Path) -> FileArea:
    """GridFS when the store is MongoDB, else `DATA/bulk/`."""
    db = getattr(store, "db", None)
    if db is not None:
        return GridFSArea(db)
    return DirectoryArea(Path(data_dir) / "bulk")
