"""Package size: `chalice package --stage dev` in a temp copy of the app, then the zip's size and contents.

Copies what chalice packages (app.py, chalicelib/, requirements.txt, .chalice/ without
deployments, vendor/ if any) to a temp dir, so the repo gets no .chalice/deployments cache,
and runs the chalice next to this interpreter. chalice may download manylinux wheels from
PyPI for the requirements. Budget: deployment.zip <= 25 MB (10^6 bytes).

    python bench/package_size.py [--keep DIR] [--top 12]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import FAKE_AWS, ROOT, markdown_table, save  # noqa: E402

BUDGET_MB = 25.0
MB = 1_000_000
PROJECT_FILES = ("app.py", "requirements.txt")
PROJECT_DIRS = ("chalicelib", "vendor")
TIMEOUT_SECONDS = 900


class PackageError(RuntimeError):
    pass


def copy_project(destination: Path, source: Path = ROOT) -> Path:
    """The files chalice packages, without caches and without .chalice/deployments."""
    destination.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT_FILES:
        shutil.copy2(source / name, destination / name)
    for name in PROJECT_DIRS:
        if (source / name).is_dir():
            shutil.copytree(source / name, destination / name, ignore=ignore)
    shutil.copytree(source / ".chalice", destination / ".chalice",
                    ignore=shutil.ignore_patterns("deployments", "deployed", "__pycache__"))
    return destination


def chalice_command() -> list[str]:
    beside = Path(sys.executable).parent / "chalice"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("chalice")
    if not found:
        raise PackageError("chalice is not installed next to this Python nor on PATH (run `make setup`)")
    return [found]


def package(project: Path, stage: str = "dev") -> Path:
    """Runs `chalice package --stage <stage> out` in `project`; returns out/deployment.zip."""
    out = project / "out"
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(FAKE_AWS)  # chalice needs a region; no credentials are used
    result = subprocess.run([*chalice_command(), "package", "--stage", stage, str(out)], cwd=project, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    zip_path = out / "deployment.zip"
    if result.returncode != 0 or not zip_path.exists():
        raise PackageError(f"chalice package failed (exit {result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return zip_path


@dataclass
class Entry:
    name: str
    files: int = 0
    compressed: int = 0
    uncompressed: int = 0


def top_level_entries(zip_path: Path) -> list[Entry]:
    """Sizes per top-level entry of the zip (a package, a module, or all *.dist-info together)."""
    entries: dict[str, Entry] = {}
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            head = info.filename.split("/", 1)[0]
            if head.endswith((".dist-info", ".egg-info")):
                head = "*.dist-info (metadata)"
            entry = entries.setdefault(head, Entry(head))
            entry.files += 1
            entry.compressed += info.compress_size
            entry.uncompressed += info.file_size
    return sorted(entries.values(), key=lambda e: e.compressed, reverse=True)


def render(zip_path: Path, entries: list[Entry], seconds: float, top: int) -> str:
    size = zip_path.stat().st_size
    unzipped = sum(e.uncompressed for e in entries)
    verdict = "yes" if size / MB <= BUDGET_MB else "NO"
    out = ["### Package size (`chalice package --stage dev`)", "",
           markdown_table(["artifact", "zipped MB", "zipped MiB", "unzipped MB", "files", "budget", "within budget"],
                          [["deployment.zip", f"{size / MB:.2f}", f"{size / 2**20:.2f}", f"{unzipped / MB:.1f}",
                            sum(e.files for e in entries), f"<= {BUDGET_MB:.0f} MB zipped", verdict]]),
           "", f"Largest top-level entries (of {len(entries)}):", "",
           markdown_table(["entry", "zipped MB", "share", "unzipped MB", "files"],
                          [[e.name, f"{e.compressed / MB:.2f}", f"{100 * e.compressed / max(size, 1):.0f} %",
                            f"{e.uncompressed / MB:.2f}", e.files] for e in entries[:top]]),
           "", f"(packaged in {seconds:.0f} s)"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="package into this directory and keep it")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the zip is over budget")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="roster-package-") as tmp:
        project = copy_project(args.keep or Path(tmp) / "roster")
        started = time.perf_counter()
        try:
            zip_path = package(project)
        except (PackageError, subprocess.TimeoutExpired) as error:
            print(f"package_size: {error}", file=sys.stderr)
            return 2
        seconds = time.perf_counter() - started
        entries = top_level_entries(zip_path)
        size = zip_path.stat().st_size
        save("package_size", {"zipped_bytes": size, "zipped_mb": size / MB,
                              "unzipped_bytes": sum(e.uncompressed for e in entries),
                              "within_budget": size / MB <= BUDGET_MB,
                              "entries": [vars(e) for e in entries]})
        print(render(zip_path, entries, seconds, args.top))
        return 1 if args.strict and size / MB > BUDGET_MB else 0


if __name__ == "__main__":
    sys.exit(main())
