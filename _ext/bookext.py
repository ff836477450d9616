"""Sphinx glue for the book (loaded by ``_config.yml`` as a local extension).

* Tells notebooks executed during the build to render their explorers in the
  static, kernel-free face (``WEIGHTREG_STATIC_WIDGETS=1``; kernels inherit the
  environment of the build process).
* Makes the build use non-interactive matplotlib and a fixed hash seed so two
  builds produce identical outputs.
"""

from __future__ import annotations

import os


def setup(app):  # noqa: D103
    os.environ["WEIGHTREG_STATIC_WIDGETS"] = "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ["PYTHONHASHSEED"] = "0"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
