# Weight Regularization, Executed: build, test and serve the book.
#   make book     install, execute notebooks (cached) and build _build/html
#   make test     install, lint, build from scratch with warnings as errors, run every test
#   make lab      open the chapters in JupyterLab
#   make student  write the student edition into _build/student
#   make grading  write the nbgrader course (source and release notebooks) into _build/grading
#   make bench    time the batched hyper-parameter sweep; time the book's execution per page
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Pages executed at once (Sphinx reads in parallel; MyST-NB executes a page as it is read).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# jupyter-book build, with -j (tools/jb.py: its command line has none)
JB := $(BIN)/python tools/jb.py -j $(JOBS)
JBFLAGS := -W -n --keep-going
MATHJAX_VERSION := 3.2.2
MATHJAX := _vendor/mathjax/tex-chtml.js
TEST_OUT := _build/test
# Inputs whose change invalidates executed results: the cache is keyed on notebook code only.
# Not tools/: the build tooling is imported by no chapter; the instructor page, which reads the
# chapters' sources with tools/homework.py, is executed again when they change (_ext/bookext.py).
EXEC_INPUTS := requirements.txt requirements-nodeps.txt $(wildcard src/weightreg/*.py src/weightreg/*/*.py)

.PHONY: install book test lab lint clean bench student grading browser logs

install: $(STAMP) $(MATHJAX)

# After installing: rfc3987-syntax, an optional format checker of jsonschema (pulled in by
# jupyter-events' extras), compiles a grammar when imported: 3-7 s in every kernel whose first
# glue() imports nbformat. jsonschema runs without it (it skips that format); nothing we use
# needs it, so it is uninstalled.
$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	touch $@

# MathJax is served from the book itself (_vendor -> _build/html/mathjax) (offline reading); fetched from npm, not committed.
$(MATHJAX):
	rm -rf _build/vendor _vendor/mathjax && mkdir -p _build/vendor _vendor
	cd _build/vendor && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null
	tar -xzf _build/vendor/mathjax-$(MATHJAX_VERSION).tgz -C _build/vendor
	mkdir -p _vendor/mathjax
	cp -r _build/vendor/package/es5/. _vendor/mathjax/
	test -f $@

# Headless Chromium and its chromedriver for tests/test_browser.py, from the distribution's
# packages (Debian/Ubuntu: chromium, chromium-driver); root or sudo, as in CI. The tests pass
# the chromedriver path to selenium explicitly, so selenium never downloads a driver.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver >/dev/null; fi
	@chromium --version 2>/dev/null && chromedriver --version

_build/.exec-inputs: $(EXEC_INPUTS)
	@mkdir -p _build
	@if [ -d _build/.jupyter_cache ]; then \
	  echo "Environment or helpers changed: clearing the execution cache."; \
	  rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute; fi
	@touch $@

book: install _build/.exec-inputs
	$(JB) build . $(JBFLAGS) || { $(MAKE) --no-print-directory logs OUT=_build/html; exit 1; }
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

logs:
	@for f in $$(find $(OUT)/reports -name '*.log' 2>/dev/null); do \
	  echo "==== execution log: $$f"; cat "$$f"; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests bench tools _ext

# The book executes twice: the strict build (pages in parallel), then the student edition,
# started by the tests in the background as soon as they are collected; tests/test_book.py
# compares every glued value of the two executions (see tests/conftest.py).
test: install browser lint
	rm -rf $(TEST_OUT)
	$(JB) build . --path-output $(TEST_OUT) $(JBFLAGS) \
	  || { $(MAKE) --no-print-directory logs OUT=$(TEST_OUT)/_build/html; exit 1; }
	BOOK_HTML=$(TEST_OUT)/_build/html $(BIN)/python -m pytest

lab: install
	WEIGHTREG_STATIC_WIDGETS=0 $(BIN)/jupyter lab book/

# Student edition (tools/student.py): _build/student/html (no solutions) and one notebook per
# chapter in _build/student/notebooks (solution cells replaced by their stubs, no outputs).
student: install
	$(BIN)/python tools/student.py --out _build/student --jobs $(JOBS)

# nbgrader course (tools/grading.py): _build/grading/source/<chapter>/<chapter>.ipynb with
# solution cells, autograded self-check and hidden test cells, hand-graded answer cells and
# points, its nbgrader_config.py, and release/ (what students get: no solutions, no hidden
# tests) by nbgrader generate_assignment. nbgrader runs alembic from the venv: $(BIN) on PATH.
# Running it again rewrites source/ and release/ only: submissions, autograded notebooks,
# feedback and the gradebook of a running class are kept.
grading: install
	rm -rf _build/grading/source _build/grading/release
	$(BIN)/python tools/grading.py --out _build/grading
	cd _build/grading && PATH=$(CURDIR)/$(BIN):$$PATH $(CURDIR)/$(BIN)/python -m nbgrader \
	  generate_assignment '*' --force --log-level=WARN

# The sweep benchmark, then the book's execution times (a fresh build into _build/bench).
bench: install
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/book.py --jobs $(JOBS) --out _build/bench

clean:
	rm -rf _build
