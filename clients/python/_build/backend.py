"""PEP 517 build backend: setuptools.build_meta, which writes the wheel
itself only where setuptools cannot.

setuptools before 70.1 writes wheels with the separate ``wheel`` package.
Debian 12's ``python3 -m venv`` seeds setuptools 66 and pip 23 without it,
so there ``pip install --no-index --no-build-isolation`` of a plain
setuptools project fails with "invalid command 'bdist_wheel'". When neither
setuptools nor ``wheel`` provides bdist_wheel, this backend writes the wheel
from pyproject.toml's [project] table and the files under src/: the client
is pure Python without dependencies, so its wheel is a zip of those files
and a .dist-info (PEP 427, core metadata 2.1). Everywhere else setuptools
builds it as usual.
"""

from __future__ import annotations

import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from setuptools.build_meta import build_sdist, get_requires_for_build_sdist

__all__ = ["build_sdist", "build_wheel", "get_requires_for_build_sdist", "get_requires_for_build_wheel"]


def _setuptools_writes_wheels() -> bool:
    """Whether setuptools has a bdist_wheel command (its own, or wheel's)."""
    try:
        import setuptools.command.bdist_wheel  # noqa: F401  (setuptools >= 70.1)
    except ImportError:
        try:
            import wheel.bdist_wheel  # noqa: F401
        except ImportError:
            return False
    return True


if _setuptools_writes_wheels():
    from setuptools.build_meta import (  # noqa: F401  (the hooks pip calls)
        build_editable,
        build_wheel,
        get_requires_for_build_editable,
        get_requires_for_build_wheel,
        prepare_metadata_for_build_editable,
        prepare_metadata_for_build_wheel,
    )
else:

    def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
        """Nothing beyond this file and the standard library."""
        return []

    def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                    metadata_directory: str | None = None) -> str:
        """Write the py3-none-any wheel into wheel_directory and return its name."""
        root = Path.cwd()
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        unsupported = sorted(set(project) & {"dependencies", "optional-dependencies", "scripts", "entry-points", "dynamic"})
        if unsupported:
            raise RuntimeError(f"the stdlib wheel writer does not handle [project] {', '.join(unsupported)}; "
                               "install setuptools >= 70.1 or the wheel package")
        dist = project["name"].replace("-", "_")
        info = f"{dist}-{project['version']}.dist-info"
        files = {str(p.relative_to(root / "src")): p.read_bytes() for p in sorted((root / "src").rglob("*"))
                 if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".egg-info")}
        files[f"{info}/METADATA"] = _metadata(root, project)
        files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: hatchet-worker-client _build/backend.py\n" \
                                 b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()]
        files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
        name = f"{dist}-{project['version']}-py3-none-any.whl"
        with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as whl:
            for path, data in files.items():
                whl.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data)
        return name


def _metadata(root: Path, project: dict[str, Any]) -> bytes:
    """Core metadata 2.1 of the [project] table."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    body = ""
    if "readme" in project:
        lines.append("Description-Content-Type: text/markdown")
        body = "\n" + (root / project["readme"]).read_text(encoding="utf-8")
    return ("\n".join(lines) + "\n" + body).encode()


def _digest(data: bytes) -> str:
    """The RECORD hash of data: urlsafe base64 of its SHA-256, unpadded."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
