"""Records in the user's cache folder: plain JSON, sealed with a per-user secret.

The cache lives outside every project (platformdirs' user cache folder, or `NEURODECK_CACHE_DIR`),
so a repository cannot ship entries into it. Records hold plain values only, so reading one can
never run code; and each carries an HMAC over its key and bytes, made with a random secret kept in
the cache folder, so an entry that neurodeck did not write for that very key (planted, copied
from elsewhere, damaged or from another format) is a cache miss, never an input. Light imports
only: the up-to-date check reads its stamps through here.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

import orjson

_MAGIC = b"NDJ1"  # the record format; other formats are foreign
_SECRET_BYTES = 32


def cache_root() -> Path:
    """The folder neurodeck caches in: `NEURODECK_CACHE_DIR`, else the user's cache folder."""
    chosen = os.environ.get("NEURODECK_CACHE_DIR")
    if chosen:
        return Path(chosen)
    from platformdirs import user_cache_dir  # only needed when no folder is chosen

    return Path(user_cache_dir("neurodeck", appauthor=False))


class Store:
    """Sealed records under one folder. Picklable, so that worker processes can write records."""

    def __init__(self, folder: Path, secret: bytes | None):
        self.folder = folder
        self.secret = secret  # None: the secret could not be read or made; every read misses

    @classmethod
    def open(cls, folder: Path | None = None) -> Store:
        folder = cache_root() if folder is None else folder
        return cls(folder, _secret(folder))

    def read(self, path: Path, key: str) -> Any | None:
        """The value filed under `key` at `path`, or None if missing, damaged, planted or foreign."""
        if self.secret is None:
            return None
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except (OSError, ValueError):
            return None
        header = len(_MAGIC) + hashlib.sha256().digest_size
        payload = memoryview(blob)[header:]  # a rebuild reads megabytes: never copied
        if blob[:len(_MAGIC)] != _MAGIC or not hmac.compare_digest(blob[len(_MAGIC):header],
                                                                   self._seal(key, payload)):
            return None
        try:
            return loads(payload)
        except ValueError:
            return None

    def write(self, path: Path, key: str, value: Any) -> None:
        """File `value` (plain JSON values) under `key` at `path`, atomically. Best effort: a
        cache that cannot be written only costs speed."""
        self.write_payload(path, key, dumps(value))

    def write_payload(self, path: Path, key: str, payload: bytes) -> None:
        """`write` of a value that `dumps` already made into `payload`."""
        if self.secret is None:
            return
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                tmp.write_bytes(_MAGIC + self._seal(key, payload) + payload)
                os.replace(tmp, path)
            finally:  # also when a signal stops the process mid-write
                if tmp.exists():
                    tmp.unlink()
        except OSError:
            pass

    def remove_leftovers(self, *patterns: str) -> None:
        """Remove temporary files of writes that were killed (those of live processes stay)."""
        for pattern in patterns:
            for leftover in self.folder.glob(pattern):
                try:
                    pid = int(leftover.suffixes[-2][1:])
                    if pid != os.getpid() and _alive(pid):
                        continue
                except (ValueError, IndexError):
                    pass
                try:
                    leftover.unlink()
                except OSError:
                    pass

    def _seal(self, key: str, payload: bytes | memoryview) -> bytes:
        assert self.secret is not None
        seal = hmac.new(self.secret, key.encode() + b"\0", hashlib.sha256)
        seal.update(payload)
        return seal.digest()


def dumps(value: Any) -> bytes:
    """Plain JSON values as the bytes of a record (UTF-8 JSON)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # names with lone surrogates (undecodable bytes): json escapes them
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def loads(payload: bytes | memoryview) -> Any:
    """The values `dumps` made `payload` from; ValueError for anything else."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:  # json.dumps wrote what orjson refuses
        pass
    try:
        return json.loads(bytes(payload))
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def _alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would send Ctrl-C on Windows; keep what we cannot check
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but belongs to someone else
    return True


def _secret(folder: Path) -> bytes | None:
    """The per-user secret that seals records, made on first use (readable by the user alone)."""
    path = folder / "secret"
    for _ in range(2):
        try:
            with open(path, "rb") as f:
                secret = f.read(_SECRET_BYTES + 1)
            return secret if len(secret) == _SECRET_BYTES else None
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:  # made whole under a private name, then linked: readers never see half a secret
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f"secret.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, os.urandom(_SECRET_BYTES))
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another build made it first: use theirs
            except OSError:  # no hard links here; a lost race only costs the other's records
                os.replace(tmp, path)
            finally:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
        except OSError:
            return None
    return None
