"""The public surface of ``archive``: ``__all__``, its lazy exports, and what ``import archive`` costs.

``archive/__init__.py`` lists each public name three times: imported under ``TYPE_CHECKING``
(for type checkers), in ``_MODULES`` (what ``__getattr__`` imports at run time) and in
``__all__``. These tests keep the three the same, and every name where it is defined.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import archive

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("trafilatura", "langdetect", "numpy")


def _loaded_after(code: str) -> set[str]:
    """Names in ``sys.modules`` after ``code`` runs in a fresh interpreter (indirect imports count)."""
    probe = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def _heavy(loaded: set[str]) -> list[str]:
    return sorted({name.split(".")[0] for name in loaded} & set(HEAVY))


def _type_checking_imports() -> dict[str, str]:
    """Name -> module of the ``from archive.X import ...`` lines under ``if TYPE_CHECKING:``."""
    tree = ast.parse((ROOT / "archive" / "__init__.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module is not None
                found.update({alias.name: stmt.module for alias in stmt.names})
    return found


def test_all_is_sorted_and_matches_the_runtime_table() -> None:
    assert archive.__all__ == sorted(set(archive.__all__))
    assert archive.__all__ == sorted(archive._HOME)


def test_type_checkers_see_the_same_names_from_the_same_modules() -> None:
    assert _type_checking_imports() == archive._HOME


def test_every_name_resolves_to_the_module_that_defines_it() -> None:
    for name, module in archive._HOME.items():
        value = getattr(archive, name)
        assert value is getattr(importlib.import_module(module), name)
        assert value.__module__ == module, f"{name} is defined in {value.__module__}, not {module}"


def test_no_name_hides_a_module() -> None:
    # `archive.text` must stay the module: importing a submodule sets it on the package.
    modules = {info.name for info in pkgutil.iter_modules(archive.__path__)}
    assert not modules & set(archive.__all__)


def test_unknown_names_still_raise_attribute_error() -> None:
    assert not hasattr(archive, "no_such_name")


def test_dir_lists_the_public_names() -> None:
    assert set(archive.__all__) <= set(dir(archive))


def test_import_archive_loads_nothing_heavy() -> None:
    loaded = _loaded_after("import archive")
    assert _heavy(loaded) == []
    assert sorted(name for name in loaded if name.startswith("archive.")) == []


def test_reading_and_writing_warc_files_loads_nothing_heavy() -> None:
    loaded = _loaded_after("from archive import WarcFileWriter, build_indexes, list_captures")
    assert _heavy(loaded) == []


def test_the_text_names_do_load_the_extractor() -> None:
    """The probe works: a name that needs trafilatura brings it (so the tests above can fail)."""
    assert "trafilatura" in _heavy(_loaded_after("from archive import extract_article"))


def test_the_whole_error_tree_is_public() -> None:
    from archive import errors

    assert set(errors.__all__) <= set(archive.__all__)
