"""The import graph of gaitrisk: no cycle between modules, no private name taken across modules.

The checker is ``scripts/check_imports.py`` (an ``ast`` walk over every import statement,
including those inside functions); these tests run it on the real tree and prove on a
small synthetic package that it catches what it is for.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_imports.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


check = _checker()


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_cycle_through_a_function_level_import_is_reported(tmp_path):
    package = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import helper\n",
        "pkg/sub/__init__.py": "",
        "pkg/b.py": "def helper():\n    from .sub import c\n    return c\n",
        "pkg/sub/c.py": "import pkg.a\n",
    })
    assert check.problems(package) == ["import cycle: pkg.a -> pkg.b -> pkg.sub.c -> pkg.a"]


def test_a_package_re_export_is_an_edge_of_the_cycle(tmp_path):
    package = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/report/__init__.py": "from .html import render\ndef stem():\n    return 'x'\n",
        "pkg/report/html.py": "def render():\n    from . import stem\n    return stem()\n",
    })
    assert check.problems(package) == ["import cycle: pkg.report -> pkg.report.html -> pkg.report"]


def test_a_private_name_taken_from_another_module_is_reported(tmp_path):
    package = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/store.py": "def _iso(t):\n    return t\n_LIMIT = 3\ndef __dir__():\n    return []\n",
        "pkg/load/__init__.py": "",
        "pkg/load/weekly.py": ("from ..store import __dir__\n"
                               "def f():\n    from pkg.store import _iso, _LIMIT as limit\n    return _iso, limit\n"),
        "pkg/load/_native.c": "",
        "pkg/load/fast.py": "from . import _native\n",   # a private submodule of its own package
        "pkg/other.py": "from .load import _native\n",
        "pkg/more.py": "import pkg.load._native\nimport pkg.load.fast\n",
    })
    assert check.problems(package) == [
        "pkg.load.weekly (line 3) imports private name _iso from pkg.store",
        "pkg.load.weekly (line 3) imports private name _LIMIT from pkg.store",
        "pkg.more (line 1) imports private name _native from pkg.load._native",
        "pkg.other (line 1) imports private name _native from pkg.load._native",
    ]


def test_a_clean_package_passes_and_the_script_says_so(tmp_path):
    package = _write(tmp_path, {
        "pkg/__init__.py": "from .a import f\n",
        "pkg/a.py": "import os\nfrom . import b\ndef f():\n    return b.g()\n",
        "pkg/b.py": "def g():\n    return 1\n",
    })
    assert check.problems(package) == []
    run = subprocess.run([sys.executable, str(SCRIPT), str(package)], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, "")
    (package / "b.py").write_text("from .a import f\ndef g():\n    return 1\n")
    run = subprocess.run([sys.executable, str(SCRIPT), str(package)], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (1, "import cycle: pkg.a -> pkg.b -> pkg.a\n")


def test_gaitrisk_has_no_import_cycle_and_no_private_import():
    assert check.problems(ROOT / "gaitrisk") == []


def test_gaitrisk_outside_the_parts_in_restructuring_has_no_cycle_and_no_private_import():
    in_flux = ("gaitrisk.cli.", "import cycle: gaitrisk.cli.")
    assert [p for p in check.problems(ROOT / "gaitrisk") if not p.startswith(in_flux)] == []


def test_the_store_reaches_only_the_bottom_layer():
    """Everything the store imports, directly or not, is a record, the schema, time or a file helper."""
    bottom = {"gaitrisk.records", "gaitrisk.schema", "gaitrisk.times", "gaitrisk.vocab", "gaitrisk.units",
              "gaitrisk.plausible", "gaitrisk.privatefile", "gaitrisk.textsafe"}
    modules = check.module_names(ROOT / "gaitrisk")
    graph: dict[str, set[str]] = {}
    for e in check.edges(modules):
        graph.setdefault(e.importer, set()).add(e.target)
    seen: set[str] = set()
    todo = [m for m in modules if m == "gaitrisk.store" or m.startswith("gaitrisk.store.")]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph.get(m, ()))
    assert sorted(m for m in seen if m not in bottom and not m.startswith("gaitrisk.store")) == []
