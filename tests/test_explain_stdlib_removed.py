"""Standard-library modules a Python release removed (rigfit/kb/python_stdlib_removed.yaml): one fact for explain's
"No module named 'imghdr'" answer and for the stray-file analyzer's stdlib names, whatever Python rigfit runs on."""

from __future__ import annotations

import sys

from rigfit.explain.analyzers import stdlib_shadow
from rigfit.explain.analyzers.context import modules, removed_stdlib
from tests.test_explain_fixtures import explain_file

PEP_594 = {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib",
           "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib"}  # fmt: skip


def test_kb_lists_the_removals_of_312_and_313() -> None:
    removed = removed_stdlib()
    assert {m for m, e in removed.items() if e.removed_in == "3.12"} == {"distutils", "imp", "asynchat", "asyncore",
                                                                            "smtpd"}  # fmt: skip
    assert {m for m, e in removed.items() if e.removed_in == "3.13"} >= PEP_594
    assert removed["imghdr"].replacement == "standard-imghdr"
    assert removed["imp"].replacement is None


def test_one_fact_one_answer_python_modules_does_not_repeat_them() -> None:
    assert not set(removed_stdlib()) & set(modules())


def test_stdlib_names_do_not_depend_on_rigfits_interpreter() -> None:
    """Names as a Python 3.13 interpreter lists them (imghdr, distutils gone) still include the removed modules."""
    as_on_313 = frozenset(sys.stdlib_module_names) - set(removed_stdlib())
    names = stdlib_shadow.stdlib_names(as_on_313)
    assert {"imghdr", "distutils", "imp", "cgi", "audioop"} <= names
    assert "threading" not in names  # routine frames stay out


def test_imghdr_on_python_313_is_the_removal_not_a_pip_package() -> None:
    top = explain_file("python-module-not-provided--docscan-imghdr-py313.txt")[0]
    assert top.title == "imghdr was removed from Python 3.13"
    assert "docscan" in top.cause and "3.13" in top.cause
    assert "pip install standard-imghdr" in top.fix and "pip install imghdr" not in top.fix
    assert "/pydocscan/venv/bin/python -m pip" in top.fix  # into the env that failed
    assert "Python 3.12" in top.fix


def test_distutils_on_python_312_names_setuptools_shim() -> None:
    top = explain_file("python-module-not-provided--snapshot-finder-distutils-py312.txt")[0]
    assert top.facts["removed_in"] == "3.12"
    assert "pip install setuptools" in top.fix and "Python 3.11" in top.fix
    assert "pip install distutils" not in top.fix


def test_imp_has_no_replacement_package() -> None:
    """imp: the KB names no PyPI package, so the fix offers none (upgrade j2cli, or Python 3.11)."""
    top = explain_file("python-module-not-provided--j2cli-imp-py312.txt")[0]
    assert top.facts["importer"] == "j2cli"
    assert "pip install" not in top.fix and "Upgrade j2cli" in top.fix and "Python 3.11" in top.fix
