"""tools/prune_deps.py on a small fake dependency tree: what goes, what stays, and links that still load."""

from __future__ import annotations

from pathlib import Path

from tools import prune_deps


def _tree(root: Path) -> None:
    files = {
        "pkg/__init__.py": b"x",
        "pkg/tests/test_a.py": b"x" * 100,
        "pkg/core.pyi": b"stub",
        "pyarrow/lib.cpython-311-x86_64-linux-gnu.so": b"lib",
        "pyarrow/libarrow_python.so.2100": b"A" * 1000,
        "pyarrow/libarrow_python.so": b"A" * 1000,
        "pyarrow/libarrow_python.so.2100.0.0": b"A" * 1000,
        "pyarrow/libarrow_substrait.so.2100": b"S" * 10,
        "pyarrow/libarrow_flight.so.2100": b"F" * 500,
        "pyarrow/_flight.cpython-311-x86_64-linux-gnu.so": b"F",
        "pyarrow/libparquet.so.2100": b"P" * 10,
        "pyarrow/libparquet.so": b"different",
        "pycountry/locales/de/LC_MESSAGES/iso3166-1.mo": b"m" * 50,
        "pycountry/databases/iso3166-1.json": b"{}",
        "botocore/data/s3/2006-03-01/service-2.json.gz": b"s3",
        "botocore/data/sts/2011-06-15/service-2.json.gz": b"sts",
        "botocore/data/sqs/2012-11-05/service-2.json.gz": b"sqs",
        "botocore/data/endpoints.json": b"{}",
        "bin/some-script": b"#!",
    }
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def test_prune_removes_what_never_loads_and_keeps_what_does(tmp_path):
    _tree(tmp_path)
    freed = prune_deps.prune(tmp_path, ["s3"])
    assert freed > 2000
    gone = ["pkg/tests", "pkg/core.pyi", "pyarrow/libarrow_flight.so.2100", "pycountry/locales", "bin"]
    gone += ["botocore/data/sqs", "pyarrow/_flight.cpython-311-x86_64-linux-gnu.so"]
    for name in gone:
        assert not (tmp_path / name).exists(), name
    kept = ["pkg/__init__.py", "pyarrow/libarrow_substrait.so.2100", "pycountry/databases/iso3166-1.json"]
    kept += ["botocore/data/s3", "botocore/data/sts", "botocore/data/endpoints.json", "pyarrow/libparquet.so"]
    for name in kept:
        assert (tmp_path / name).exists(), name
    # identical copies become links to the soname; a different file of the same stem is left alone
    for copy in ("libarrow_python.so", "libarrow_python.so.2100.0.0"):
        link = tmp_path / "pyarrow" / copy
        assert link.is_symlink() and link.read_bytes() == b"A" * 1000
    assert not (tmp_path / "pyarrow" / "libparquet.so").is_symlink()


def test_prune_without_services_keeps_every_api_model_and_is_idempotent(tmp_path):
    _tree(tmp_path)
    prune_deps.prune(tmp_path, [])
    assert (tmp_path / "botocore/data/sqs").exists()
    assert prune_deps.prune(tmp_path, []) == 0


def test_cli_refuses_a_missing_folder(tmp_path, capsys):
    assert prune_deps.main([str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
