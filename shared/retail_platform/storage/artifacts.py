"""`VersionedArtifacts`: the one versioned model store of the platform.

Layout under `prefix`: `<version>/<file>` per version, and `current.json` naming the serving version and
the previous good ones (newest first). Publishing writes a version's files first and moves the pointer
last, so a reader never sees a pointer to a half-written version; loading falls back along the list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from retail_platform.exceptions import PlatformError
from retail_platform.observability import logger
from retail_platform.storage import codec
from retail_platform.storage.blobstore import BlobStore
from retail_platform.storage.errors import CorruptObjectError, ObjectNotFoundError, StorageError

T = TypeVar("T")
POINTER = "current.json"
#: what a loader may raise for an unreadable version (a store failure or bytes it cannot decode)
UNREADABLE: tuple[type[BaseException], ...] = (PlatformError, ValueError, KeyError, OSError)


def content_type(name: str) -> str:
    return (
        codec.JSON_TYPE
        if name.endswith(".json")
        else codec.PARQUET_TYPE
        if name.endswith(".parquet")
        else "application/octet-stream"
    )


class VersionedArtifacts:
    """Versions of one model (or serving document set) under `prefix` in a `BlobStore`."""

    def __init__(
        self,
        store: BlobStore,
        prefix: str,
        keep_previous: int = 5,
        subject: str = "model",
        log_fields: Mapping[str, Any] | None = None,
        in_use: str = "serving",
    ) -> None:
        """`subject`, `in_use` and `log_fields` name the versions in log lines (e.g. "serving a previous
        snapshot version", with `kind`), so each system's logs keep their words."""
        self.store = store
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.keep_previous = keep_previous
        self.subject = subject
        self.in_use = in_use
        self.log_fields = dict(log_fields or {})

    @property
    def pointer_key(self) -> str:
        return self.prefix + POINTER

    def key(self, version: str, name: str) -> str:
        return f"{self.prefix}{version}/{name}"

    # ------------------------------------------------------------------ pointer

    def read_pointer(self) -> dict[str, Any]:
        """current.json; `ObjectNotFoundError` when nothing was published, `CorruptObjectError` when unreadable."""
        pointer = codec.read_json(self.store, self.pointer_key)
        if not isinstance(pointer, dict):
            raise CorruptObjectError(f"{self.store.bucket}/{self.pointer_key} is not a JSON object")
        return pointer

    def pointer(self) -> dict[str, Any] | None:
        """current.json, or None when it is missing or corrupt (a corrupt one is logged)."""
        try:
            return self.read_pointer()
        except ObjectNotFoundError:
            return None
        except CorruptObjectError as e:
            logger.warning(f"{self.subject} pointer unreadable", extra={**self.log_fields, "error": str(e)})
            return None

    def current(self) -> str | None:
        """The serving version, None when nothing was published."""
        pointer = self.pointer()
        version = pointer.get("version") if pointer else None
        return version if isinstance(version, str) else None

    def previous(self, pointer: Mapping[str, Any] | None = None) -> list[str]:
        """The fallback versions, newest first (older pointers held one version as a string)."""
        pointer = self.pointer() if pointer is None else pointer
        previous = (pointer or {}).get("previous")
        if isinstance(previous, str):
            return [previous]
        return [v for v in previous or [] if isinstance(v, str) and v]

    def versions(self, pointer: Mapping[str, Any] | None = None) -> list[str]:
        """Current then previous versions: the order loading tries them in."""
        pointer = self.pointer() if pointer is None else pointer
        current = (pointer or {}).get("version")
        head = [current] if isinstance(current, str) and current else []
        return head + [v for v in self.previous(pointer) if v not in head]

    # ------------------------------------------------------------------ publish

    def publish(self, version: str, files: Mapping[str, bytes], /, **pointer_fields: Any) -> str:
        """Write a version's files, then point current.json at it (earlier versions kept as fallbacks).

        `pointer_fields` are stored beside `version` and `previous` (e.g. `as_of`, `updated_at`)."""
        self.stage(version, files)
        self.point_to(version, **pointer_fields)
        return f"{self.prefix}{version}/"

    def stage(self, version: str, files: Mapping[str, bytes]) -> str:
        """Write a version's files without making it current (`point_to` promotes it once it is checked)."""
        for name, body in files.items():
            self.store.put(self.key(version, name), body, content_type(name))
        return f"{self.prefix}{version}/"

    def point_to(self, version: str, /, **pointer_fields: Any) -> None:
        """Make `version` current (its files must already be written)."""
        previous = [v for v in self.versions() if v != version]
        pointer = {"version": version, "previous": previous[: self.keep_previous], **pointer_fields}
        codec.write_json(self.store, self.pointer_key, pointer)

    # ------------------------------------------------------------------ read

    def read(
        self, version: str, names: list[str] | tuple[str, ...] | None = None, optional: tuple[str, ...] = ()
    ) -> dict[str, bytes]:
        """A version's files by name: `names` (each required) or, when None, every file it has.

        `optional` files are added when the version has them."""
        if names is None:
            base = f"{self.prefix}{version}/"
            files = {key[len(base) :]: self.store.get(key) for key in self.store.list(base)}
            if not files:
                raise StorageError(f"no files under {self.store.bucket}/{base}")
        else:
            files = {name: self.store.get(self.key(version, name)) for name in names}
        for name in optional:
            if name not in files:
                try:
                    files[name] = self.store.get(self.key(version, name))
                except ObjectNotFoundError:
                    continue
        return files

    def has(self, version: str) -> bool:
        """Whether any file of `version` is stored (whatever the pointer says)."""
        return next(iter(self.store.list(f"{self.prefix}{version}/")), None) is not None

    def read_json(self, version: str, name: str) -> Any:
        return codec.read_json(self.store, self.key(version, name))

    def load(
        self,
        loader: Callable[[str], T],
        pointer: Mapping[str, Any] | None = None,
        unreadable: tuple[type[BaseException], ...] = UNREADABLE,
    ) -> tuple[T, str] | None:
        """`loader(version)` of the current version, else of the newest previous one that loads.

        None when nothing was published or no version loads. A version whose loader raises one of
        `unreadable` is logged and skipped; serving a previous version is logged too."""
        pointer = self.pointer() if pointer is None else pointer
        if not pointer:
            return None
        current = pointer.get("version")
        for version in self.versions(pointer):
            try:
                loaded = loader(version)
            except unreadable as e:
                logger.warning(
                    f"{self.subject} version unreadable",
                    extra={**self.log_fields, "version": version, "error": f"{type(e).__name__}: {e}"},
                )
                continue
            if version != current:
                logger.warning(
                    f"{self.in_use} a previous {self.subject} version",
                    extra={**self.log_fields, "version": version, "current": current},
                )
            return loaded, version
        logger.warning(f"no readable {self.subject} version", extra={**self.log_fields, "current": current})
        return None
