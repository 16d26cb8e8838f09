"""The server's signing keys: generated on first start in the data directory, rotatable.

`DIR/smart-signing-keys.json` holds a private JWKS and which key is active. Rotation adds a
new active key while the old ones stay published in the JWKS, so tokens signed before the
rotation still verify; `retire` drops a key once nothing signed with it is alive. Every
worker re-reads the file when its mtime changes (explicit invalidation, no stale cache).
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

KEY_FILE = "smart-signing-keys.json"
ID_TOKEN_ALG = "RS256"


def _new_key() -> dict[str, Any]:
    # A kid from the hex alphabet: a base64url thumbprint may start with "-", which
    # command lines (`keys retire --kid ...`) would read as an option.
    kid = secrets.token_hex(8)
    key = RSAKey.generate_key(
        2048, parameters={"alg": ID_TOKEN_ALG, "use": "sig", "kid": kid}, private=True
    )
    return dict(key.as_dict(private=True))


def _write(path: Path, doc: dict[str, Any], exclusive: bool) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
        os.chmod(tmp, 0o600)
        if exclusive:
            os.link(tmp, path)  # fails if another worker created the file first
        else:
            os.replace(tmp, path)
    except FileExistsError:
        pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class _Loaded:
    mtime: int
    keys: KeySet
    active: RSAKey


class SigningKeys:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / KEY_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            key = _new_key()
            _write(self.path, {"active": key["kid"], "keys": [key]}, exclusive=True)
        self._loaded: _Loaded | None = None

    def _load(self) -> _Loaded:
        mtime = self.path.stat().st_mtime_ns
        if self._loaded is None or self._loaded.mtime != mtime:
            doc = json.loads(self.path.read_text())
            keys = KeySet.import_key_set({"keys": doc["keys"]})
            active = keys.get_by_kid(doc["active"])
            assert isinstance(active, RSAKey)
            self._loaded = _Loaded(mtime, keys, active)
        return self._loaded

    @property
    def active(self) -> RSAKey:
        return self._load().active

    @property
    def key_set(self) -> KeySet:
        return self._load().keys

    def public_jwks(self) -> dict[str, Any]:
        return dict(self._load().keys.as_dict(private=False))

    def rotate(self) -> str:
        """Add a new active key; the old ones stay published. Returns the new kid."""
        doc = json.loads(self.path.read_text())
        key = _new_key()
        doc["keys"].append(key)
        doc["active"] = key["kid"]
        _write(self.path, doc, exclusive=False)
        return str(key["kid"])

    def retire(self, kid: str) -> None:
        """Drop a key that is no longer active."""
        doc = json.loads(self.path.read_text())
        if doc["active"] == kid:
            raise ValueError("cannot retire the active key; rotate first")
        doc["keys"] = [k for k in doc["keys"] if k["kid"] != kid]
        _write(self.path, doc, exclusive=False)
