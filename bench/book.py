"""How long the book takes to execute: per page, in all, and with pages in parallel.

    .venv/bin/python bench/book.py [--jobs N] [--out _build/bench] [--no-build]

Builds the book from scratch as ``make book`` does (``tools/jb.py -j N``: pages executed N at
a time, strict ``-W -n``) into ``--out``, and prints each page's execution time (as MyST-NB
reports it), their sum, the build's wall time and the ratio of the two, measured in this one
run, against the targets of the book: wall time <= 0.6 x the sum of the page times, no page
over 25 s. With ``--no-build`` it reports on the build already in ``--out``. ``make bench``
runs it after the sweep benchmark.

The page times are measured while ``N`` pages share the machine, so each is somewhat longer
than the page alone would take: the ratio is the speed-up over executing the same pages one
after the other only if the machine has ``N`` free cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import jb  # noqa: E402  (tools/jb.py)

RATIO_TARGET = 0.6
PAGE_TARGET = 25.0
_EXECUTED = re.compile(r"^(?P<path>\S+?\.(?:md|ipynb)): Executed notebook in (?P<s>[\d.]+) seconds")


def executed_times(log: str, root: Path = ROOT) -> dict[str, float]:
    """``{docname: seconds}`` from MyST-NB's "Executed notebook in ... seconds" log lines."""
    times = {}
    for line in re.sub(r"\x1b\[[0-9;]*m", "", log).splitlines():
        m = _EXECUTED.match(line.strip())
        if m:
            path = Path(m["path"]).resolve()
            # relative to the book's root: the folder of _toc.yml above the page
            book = next((p for p in path.parents if (p / "_toc.yml").is_file()), root)
            times[str(path.relative_to(book).with_suffix(""))] = float(m["s"])
    return times


def report(times: dict[str, float], wall: float | None, jobs: int) -> str:
    """The table of page times, their sum, the wall time and the targets."""
    lines = [f"{'page':40s} {'seconds':>8s}"]
    for docname, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
        flag = "  > 25 s" if seconds > PAGE_TARGET else ""
        lines.append(f"{docname:40s} {seconds:8.1f}{flag}")
    total = sum(times.values())
    lines.append(f"{'sum of page times':40s} {total:8.1f}")
    slowest = max(times.values(), default=0.0)
    lines.append(
        f"slowest page: {slowest:.1f} s (target <= {PAGE_TARGET:.0f} s: "
        f"{'met' if slowest <= PAGE_TARGET else 'NOT met'})"
    )
    if wall is not None and total:
        ratio = wall / total
        lines.append(f"book wall time with {jobs} pages at a time: {wall:.1f} s")
        lines.append(
            f"wall / sum of page times: {ratio:.2f} (target <= {RATIO_TARGET}: "
            f"{'met' if ratio <= RATIO_TARGET else 'NOT met'})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "bench")
    parser.add_argument("--no-build", action="store_true", help="report on the build in --out")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    log_file = out / "build.log"
    wall = None
    if not args.no_build:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        cmd = [sys.executable, str(ROOT / "tools" / "jb.py"), "-j", str(args.jobs), "build"]
        cmd += [str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        log_file.write_text(proc.stdout + proc.stderr)
        (out / "wall_seconds.txt").write_text(f"{wall:.3f}\n")
        if proc.returncode != 0:
            print("\n".join((proc.stdout + proc.stderr).splitlines()[-40:]))
            print(f"the build failed (log: {log_file})")
            return 1
    elif (out / "wall_seconds.txt").is_file():
        wall = float((out / "wall_seconds.txt").read_text())
    times = executed_times(log_file.read_text()) if log_file.is_file() else {}
    for docname, seconds in jb.page_times(jb.cache_path(out)).items():
        times.setdefault(docname, seconds)
    if not times:
        print(f"no executed page found in {out}")
        return 1
    print(f"on {os.cpu_count()} CPUs; pages executed {args.jobs} at a time")
    print(report(times, wall, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
