"""Drop from a `pip install --target` tree what a Lambda function never loads; run inside the image build.

    python prune_deps.py /opt/deps [botocore services to keep ...]

Removes test suites, C headers, Cython sources, type stubs and console scripts; pyarrow's Flight RPC
libraries (about 22 MB: never imported by a function here); the two extra copies of each
versioned shared library the pyarrow wheel ships (replaced by links to the name the loader asks for);
pycountry's translations (17 MB; names are used in English only); and, when services are named,
botocore's API models of every other AWS service (about 25 MB of 27). Prints the megabytes it freed.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import sys
from pathlib import Path

# botocore's own credential providers call these services: always keep their models
CREDENTIAL_SERVICES = ("sts", "sso", "sso-oidc")
# pyarrow's Flight RPC (only `import pyarrow.flight` loads it) and its C++ test hooks; Substrait must stay:
# pyarrow.lib links against it
NEVER_LOADED = ("libarrow_flight.so*", "libarrow_python_flight.so*", "_flight.*.so", "_pyarrow_cpp_tests.*.so")


def _size(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_symlink() or p.is_file())


def _remove(path: Path) -> int:
    size = _size(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    return size


def prune(root: Path, keep_services: list[str]) -> int:
    freed = 0
    for folder in [p for p in root.rglob("*") if p.is_dir() and p.name in ("tests", "test")]:
        if folder.exists():
            freed += _remove(folder)
    for path in [root / "bin", root / "pyarrow" / "include", root / "pycountry" / "locales"]:
        if path.exists():
            freed += _remove(path)
    for pattern in ("*.pyx", "*.pxd", "*.pyi"):
        freed += sum(_remove(p) for p in list(root.rglob(pattern)) if p.is_file())
    pyarrow = root / "pyarrow"
    if pyarrow.is_dir():
        for pattern in NEVER_LOADED:
            freed += sum(_remove(p) for p in list(pyarrow.glob(pattern)))
        freed += _link_library_copies(pyarrow)
    data = root / "botocore" / "data"
    if keep_services and data.is_dir():
        keep = set(keep_services) | set(CREDENTIAL_SERVICES)
        freed += sum(_remove(p) for p in list(data.iterdir()) if p.is_dir() and p.name not in keep)
    return freed


def _link_library_copies(folder: Path) -> int:
    """libX.so and libX.so.N.M.K, identical copies of libX.so.N, become symbolic links to it."""
    freed = 0
    for soname in folder.glob("lib*.so.*"):
        if not re.fullmatch(r"lib.+\.so\.\d+", soname.name) or soname.is_symlink():
            continue
        dev = folder / soname.name.rsplit(".", 1)[0]
        for copy in [dev, *folder.glob(f"{soname.name}.*")]:
            if copy.is_file() and not copy.is_symlink() and filecmp.cmp(copy, soname, shallow=False):
                freed += _remove(copy)
                os.symlink(soname.name, copy)
    return freed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    if not root.is_dir():
        print(f"prune_deps: {root} is not a folder", file=sys.stderr)
        return 2
    print(f"prune_deps: freed {prune(root, argv[1:]) / 1e6:.1f} MB in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
