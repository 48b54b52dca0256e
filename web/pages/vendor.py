"""Front-end packages from the npm registry (``package.json``, installed by ``make install``
into ``node_modules``), served read-only: only the bundles the pages use, bpmn-js's and
form-js's UMD builds (``form-viewer.umd.js``, ``form-editor.umd.js``, usable without a
bundler) with their style sheets under ``assets/``, and pdf.js's ES modules (imported on
demand by ``viewer.js``; its worker loads from here too, so from our origin). Pages that
need ES modules (the modeler, the diagram diff) load bundles that ``make install`` builds
into ``web/static/build/`` (``scripts/build-assets.mjs``), served as static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, send_from_directory

from . import bp

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
BUILD = Path(__file__).resolve().parents[1] / "static" / "build"
SERVED = {"bpmn-js": "bpmn-js/dist", "form-js": "@bpmn-io/form-js/dist", "pdfjs": "pdfjs-dist",
          "echarts": "echarts/dist"}
"""Package -> the folder of it that may be served. pdf.js (the previews of attachments) is an
ES module whose worker, character maps and standard fonts sit beside it in its package.
ECharts (the statistics' charts) is its UMD build ``echarts.min.js``."""


def available(package: str = "bpmn-js") -> bool:
    return (NODE_MODULES / SERVED[package]).is_dir()


@bp.app_template_global()
def vendored(package: str) -> bool:
    """``available`` for templates: whether a page may offer what ``package`` does."""
    return available(package)


def built(page: str) -> bool:
    """Whether ``make install`` has bundled the script of ``page`` (modeler, differ)."""
    return (BUILD / f"{page}.js").is_file()


@bp.get("/vendor/<package>/<path:name>")
def vendor(package: str, name: str) -> Any:
    if package not in SERVED or not available(package):
        abort(404)
    return send_from_directory(NODE_MODULES / SERVED[package], name, max_age=86400)
