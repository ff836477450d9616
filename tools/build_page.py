"""Build the whole book but execute only the given chapters; report their problems.

    .venv/bin/python tools/build_page.py book/lk/l2.md [book/lk/l1.md ...]

For authors iterating on one chapter: the other notebooks are not executed (so their glued
numbers are missing and their warnings are ignored); the output goes to
``_build/page/<first chapter name>/_build/html``. Prints the warnings and errors that concern
the given chapters and their execution logs; exits 1 if there are any.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(pages: list[str]) -> int:
    pages = [str(Path(p).resolve().relative_to(ROOT)) for p in pages]
    name = Path(pages[0]).stem
    out = ROOT / "_build" / "page" / name
    out.mkdir(parents=True, exist_ok=True)
    # The execution cache is keyed on notebook code only: a change in src/weightreg would not
    # re-execute the page. Start from an empty cache so that what is built is what is true.
    shutil.rmtree(out / "_build" / ".jupyter_cache", ignore_errors=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    others = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "book").rglob("*.md")
        if str(p.relative_to(ROOT)) not in pages
    ]
    config["execute"]["exclude_patterns"] = others
    # Paths in the config are relative to the config file: make them absolute.
    local = config.get("sphinx", {}).get("local_extensions") or {}
    config["sphinx"]["local_extensions"] = {k: str(ROOT / v) for k, v in local.items()}
    cfg = out / "_config.yml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    start = time.perf_counter()
    proc = subprocess.run(
        [
            str(ROOT / ".venv/bin/jupyter-book"),
            "build",
            str(ROOT),
            "--config",
            str(cfg),
            "--path-output",
            str(out),
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    stems = [p[: -len(".md")] for p in pages]
    problems = [
        line
        for line in log.splitlines()
        if any(s in line for s in stems)
        and any(k in line for k in ("WARNING", "ERROR", "CRITICAL", "Exception", "Error"))
    ]
    for rep in (out / "_build/html/reports").rglob("*.log"):
        if any(Path(s).name in rep.name for s in stems):
            problems.append(f"==== execution log {rep}\n{rep.read_text()}")
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "An error occurred while executing the following cell" in line:
            end = next(
                (j for j in range(i + 1, len(lines)) if "ExecutionError" in lines[j]), i + 60
            )
            problems.append("==== failing cell and traceback\n" + "\n".join(lines[i:end]))
            break
    if proc.returncode != 0 and not problems:
        problems.append("the build itself failed:\n" + "\n".join(log.splitlines()[-40:]))
    print("\n".join(problems) if problems else "no warnings or errors for these pages")
    print(f"built in {elapsed:.1f} s; html: {out / '_build/html'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
