"""Python import failures: a module no package provides here, a name the installed release lacks, a compiled
extension built for another torch/CUDA/NumPy, NumPy 1 vs 2."""

from __future__ import annotations

import re
import sys

from rigfit.explain.analyzers.base import FRAME, Finding, binary_package, every, first, last, ver
from rigfit.explain.analyzers.context import Context, class_name_entry, modules, name_entry, removed_stdlib
from rigfit.explain.scan import LogLine
from rigfit.kb.diagnosis import PythonModule, PythonName, RemovedStdlibModule
from rigfit.kb.torch_published import COMPANIONS, companion_of

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = (
    "python-binary-abi-mismatch",
    "python-built-for-other-torch",
    "python-circular-import",
    "python-dependency-release-mismatch",
    "python-model-code-missing",
    "python-module-not-found",
    "python-module-not-in-checkout",
    "python-module-not-provided",
    "python-module-shadowed",
    "python-module-version-mismatch",
    "python-name-version-mismatch",
    "python-numpy-abi",
    "python-plugin-incomplete",
    "python-too-old",
    "python-ui-name-mismatch",
    "python-ui-package-missing",
    "python-ui-package-unreachable",
    "python-keyword-version-mismatch",
)

SIGNALS = (
    "no module named", "cannot import name", "has no attribute", "undefined symbol", "dtype size changed",
    "compiled using numpy", "unsupported operand type", "object is not subscriptable", "numpy.core.multiarray failed",
    "unexpected keyword argument",
)  # fmt: skip
KEYWORDS = (
    "no module named", "modulenotfounderror", "cannot import name", "has no attribute", "undefined symbol",
    "dtype size changed", "compiled using numpy", "unsupported operand type", "object is not subscriptable",
    "_array_api", "numpy.core.multiarray failed", "unexpected keyword argument",
)  # fmt: skip
CONTEXT = (
    "site-packages", "python", "custom_nodes", "extensions", "importerror", "failed to import", "docs.", "skip-install",
    "skip-prepare-environment", "[end of output]", "error originates from a subprocess", "setup",
    "install.py", "usually indicates a problem with the package",
)  # fmt: skip

NO_MODULE = re.compile(r"No module named ['\"]?(?P<module>[\w.]+)['\"]?")
# ComfyUI imports a custom node under its folder's path (load_custom_node), so the node's own missing file or
# submodule is printed as "No module named 'C:\\...\\custom_nodes\\Pack.sub'": the name is a path, not a package
PATH_MODULE = re.compile(r"No module named ['\"](?P<path>[^'\"]*?[\\/]+(?P<plugin>[\w-]+)\.(?P<module>[\w.]+))['\"]")
CANNOT_IMPORT = re.compile(
    r"cannot import name ['\"]?(?P<name>\w+)['\"]? from ['\"]?(?P<module>[\w.]+)['\"]?(?P<rest>.*)"
)
OBJECT_ATTRIBUTE = re.compile(r"'(?P<cls>[\w.]+)' object has no attribute '(?P<name>\w+)'")
# diffusers' and transformers' lazy modules print the names without quotes ("module diffusers has no attribute X")
NO_ATTRIBUTE = re.compile(
    r"module (?P<q>['\"]?)(?P<module>[\w.]+)(?P=q) has no attribute (?P<q2>['\"]?)(?P<name>[A-Za-z_]\w*)(?P=q2)(?!\w)"
)
UNDEFINED = re.compile(r"(?P<file>[^\s:'\"]+\.(?:so|pyd)(?:\.[\d.]+)?): undefined symbol: (?P<symbol>\w+)")
NUMPY_ABI = re.compile(
    r"compiled using NumPy 1\.x cannot be run in\s+NumPy 2|numpy\.dtype size changed|_ARRAY_API not found|"
    r"numpy\.core\.multiarray failed to import|numpy\.core\._multiarray_umath|Numpy is not available",
    re.I,
)
SOURCE = "https://docs.python.org/3/library/exceptions.html#ModuleNotFoundError"
KNOWN_NAME_CONFIDENCE = 0.9
PIP_CHECK = "https://pip.pypa.io/en/stable/cli/pip_check/"
COMPANION_SOURCE = "https://pytorch.org/get-started/previous-versions/"
PLUGIN_REINSTALL_SOURCE = "https://github.com/ltdrdata/ComfyUI-Impact-Pack/issues/850"


PY_SYNTAX = re.compile(
    r"unsupported operand type\(s\) for \|: '(?:type|types\.\w+|_GenericAlias)' and|"
    r"(?P<pep585>'type' object is not subscriptable)",
    re.I,
)


def analyze(ctx: Context) -> list[Finding]:
    found = (
        _numpy_abi(ctx), _undefined_symbol(ctx), _cannot_import(ctx) or _object_attribute(ctx), _no_module(ctx),
        _python_too_old(ctx), _unexpected_keyword(ctx),
    )  # fmt: skip
    return [f for f in found if f]


def _python_too_old(ctx: Context) -> Finding | None:
    """Code written with newer Python syntax (X | None needs 3.10, list[str] 3.9) run by an older Python."""
    hit = last(ctx.lines, PY_SYNTAX)
    if hit is None:
        return None
    line, m = hit
    need = "3.9" if m.group("pep585") else "3.10"
    facts = {"python_needed": f">={need}"}
    if ctx.python:
        facts["python"] = ctx.python
    where = ctx.plugin(line.number)
    who = f"{where} (an extension or custom node)" if where else "The code"
    running = f"Python {ctx.python}" if ctx.python else "an older Python"
    cause = (
        f"{who} uses type annotations of Python {need} and newer "
        f"({'list[str]' if need == '3.9' else 'X | None'}), and runs under {running}, which cannot evaluate them."
    )
    fix = (
        f"Run the UI with Python {need} or newer (3.10 or 3.11 for current SD UIs): create its venv again with that "
        "Python (`python3.10 -m venv venv`, or the Python the UI's launcher downloads), then reinstall its "
        "requirements."
    )
    return Finding("python-too-old", f"The code needs Python {need} or newer", cause, fix, [line], facts,
                   ["https://peps.python.org/pep-0604/", "https://peps.python.org/pep-0585/"])  # fmt: skip


LOOSE_FRAME = re.compile(r'File "(?P<path>[^"]+)"')  # a frame line as pasted, even when its quotes got mangled
TRACEBACK_START = "Traceback (most recent call last)"
EMBEDDED_PTH_SOURCE = "comfyanonymous/ComfyUI:.ci/setup_windows_zip.ps1 (adds ../ComfyUI to python3XX._pth)"


def _own_module_importer(ctx: Context, line: LogLine) -> tuple[str, str] | None:
    """Who imported the UI's own package when no custom node/extension did: ("package", name) for an installed
    package's file (a helper run in its own process), ("file", name.py) for the UI's own file (then the Python running
    it does not see the UI's folder). None when the traceback shows no frame."""
    start = max((ln.number for ln in ctx.lines if ln.number < line.number and TRACEBACK_START in ln.text), default=0)
    frames = [m for ln in ctx.lines if start < ln.number < line.number and (m := LOOSE_FRAME.search(ln.text))]
    if not frames or frames[-1].group("path").startswith("<"):
        return None
    path = frames[-1].group("path")
    if INSTALLED_CODE.search(path):
        return "package", binary_package(path) or path
    if root := _root_on_path(frames[0].group("path"), path):
        return "folder", root
    scripts = re.findall(r"[\w.-]+\.py\b", path)
    return "file", scripts[-1] if scripts else "the UI's own file"


def _root_on_path(outer: str, inner: str) -> str | None:
    """The UI's folder when the traceback proves it is on the import path: the outermost frame is a script in that
    folder and the failing frame is in a package folder inside it (the script imported its sibling package, so the
    missing one is absent from the folder, not unreachable)."""
    outer_dir, sep, _ = outer.replace("\\", "/").rpartition("/")
    inner_parts = inner.replace("\\", "/").rpartition("/")[0]
    if not sep or not inner_parts.startswith(outer_dir + "/") or "/" in inner_parts[len(outer_dir) + 1 :]:
        return None
    return outer.rpartition("\\" if "\\" in outer else "/")[0]


def _ui_package_unreachable(
    line: LogLine, facts: dict[str, str], module: str, importer: tuple[str, str], ctx: Context
) -> Finding:
    """The UI's own package (comfy, modules...) not importable by the UI's own file or by a helper package: the
    Python that ran it does not have the UI's folder on its import path; never a package to pip install."""
    top = module.split(".")[0]
    kind, name = importer
    facts["importer"] = name
    sources = [SOURCE]
    if kind == "folder":
        cause = (
            f"`{top}` is the UI's own package (a folder inside the UI), not a pip package. The UI's folder {name} is "
            f"on the import path (the UI's other packages in it imported fine), so the folder itself has no `{top}`: "
            "the copy of the UI is incomplete or mixed (a ZIP of a branch, an extract or `git pull` that stopped "
            "half-way, files of two releases)."
        )
        fix = (
            f"Get a complete copy of the UI: `git clone` its repository into a new folder (or extract its full "
            f"release archive into an empty folder), move your models/ and outputs over, and start it from there; "
            f"check that the new folder has `{top}`. Do not `pip install {top}`: a PyPI project of that name is "
            "unrelated."
        )
    elif kind == "package":
        cause = (
            f"`{top}` is the UI's own package (a folder inside the UI), not a pip package. The installed {name} "
            f"imports it from a process of its own (a helper it starts, an install or update step) that runs without "
            f"the UI's folder on its import path, so it cannot see `{top}`: {name} and the UI are of releases that "
            "do not fit, or the helper was started outside the UI."
        )
        fix = (
            f"Update the UI and install the {name} release its requirements name (from the UI's folder: "
            f"`{ctx.pip()} install -r` the requirements file that lists it, or `{ctx.pip()} install -U "
            f"{name.replace('_', '-')}`), and meanwhile do the failed step by hand (a custom node: `git clone` it "
            f"into custom_nodes). Do not `pip install {top}`: a PyPI project of that name is unrelated."
        )
    else:
        cause = (
            f"`{top}` is the UI's own package (a folder next to {name}), and the UI's own {name} could not import it: "
            "the Python running the UI does not have the UI's folder on its import path. Typical: a Python you put "
            "in place yourself (an embeddable Python's pythonXY._pth lists only its own folders: the portable builds "
            "add the UI's folder there), a venv of another install, or the UI's folder is incomplete."
        )
        fix = (
            "Run the UI with the Python it ships or the venv its launcher made, from the UI's folder. With an "
            "embeddable Python of your own, add the UI's folder to its pythonXY._pth (the portable ComfyUI's line is "
            "`../ComfyUI`, above the others) or make a normal venv instead; if the UI's folder has no "
            f"`{top}` folder, extract or clone the UI again. Do not `pip install {top}`: a PyPI project of that name "
            "is unrelated and would shadow the UI's own."
        )
        sources.append(EMBEDDED_PTH_SOURCE)
    return _finding(
        line, facts, cause, fix, sources, kind="ui-package-missing" if kind == "folder" else "ui-package-unreachable"
    )


def _not_provided(ctx: Context, line: LogLine, facts: dict[str, str], module: str, known: PythonModule) -> Finding:
    """A module pip does not install under its name; the UI's own package imported from outside any custom node or
    extension is a question of the import path, not of the node's age."""
    if known.kind == "ui-internal" and "plugin" not in facts and (outside := _own_module_importer(ctx, line)):
        return _ui_package_unreachable(line, facts, module, outside, ctx)
    return _not_a_package(line, facts, module, known)


def _not_a_package(line: LogLine, facts: dict[str, str], module: str, known: PythonModule) -> Finding:
    """A module python_modules.yaml says pip does not install under its name: removed from its package at a
    release, part of Python itself, optional, or the UI's own."""
    if known.kind == "submodule-removed" and known.removed_in and module == known.id:
        facts["removed_in"] = known.removed_in
        cause = (
            f"`{module}` no longer exists: {known.package} {known.removed_in} removed it, and the code importing it "
            f"(a package or extension the traceback names) predates that {known.package}."
        )
        return _finding(line, facts, cause, known.fix or "", known.sources, kind="module-not-provided")
    if known.kind == "stdlib-extension":
        facts["part_of"] = "python"
    cause = f"`{module}` is not something pip installs under that name: {known.fix}"
    return _finding(line, facts, cause, known.fix or "", known.sources, kind="module-not-provided")


def _removed_from_python(ctx: Context, line: LogLine, module: str, gone: RemovedStdlibModule) -> Finding:
    """A standard-library module that a Python release removed (python_stdlib_removed.yaml): never a package of that
    name to pip install. Under an older Python than that release the module should be there, so the install lacks it."""
    facts = {"module": module, "package": "Python", "removed_in": gone.removed_in}
    importer = _importer(ctx, line.number) or ctx.plugin(line.number)
    if importer:
        facts["importer"] = importer
    who = importer or "the code (the traceback's last frame)"
    major, _, minor = gone.removed_in.partition(".")
    last_with = f"{major}.{int(minor) - 1}"
    if ctx.python and ver(ctx.python) < ver(gone.removed_in):
        facts.pop("removed_in")
        facts["python"] = ctx.python
        cause = (
            f"`{gone.id}` is part of Python {ctx.python}'s standard library (Python removed it only in "
            f"{gone.removed_in}), yet this Python lacks it: a distribution that ships parts of the standard library "
            "as separate packages, or a damaged install."
        )
        fix = (
            f"Install the missing part of this Python (Debian/Ubuntu: `sudo apt install python3-{gone.id}`) or "
            f"reinstall Python {ctx.python}; do not `pip install {gone.id}`."
        )
        return _finding(line, facts, cause, fix, gone.sources, kind="module-not-provided")
    on = f" (this log's Python is {ctx.python})" if ctx.python else ""
    cause = (
        f"Python {gone.removed_in} removed the standard-library module `{gone.id}`{on}, and {who} still imports it: "
        f"it was written for Python {last_with} or older. No pip package named `{gone.id}` brings it back."
    )
    steps = [
        f"upgrade {importer} to a release made for Python {gone.removed_in} and newer"
        if importer
        else "update the program whose file imports it (the traceback's last frame) to a release made for Python "
        f"{gone.removed_in} and newer"
    ]
    if gone.replacement:
        steps.append(
            f"install `{gone.replacement}`, which provides `{gone.id}` again: `{ctx.pip()} install {gone.replacement}`"
        )
    steps.append(f"run it under Python {last_with} (create its venv with python{last_with})")
    fix = "; or ".join(steps) + "." + (f" ({gone.note}.)" if gone.note else "")
    fix = fix[0].upper() + fix[1:]
    return _finding(line, facts, cause, fix, gone.sources, kind="module-not-provided")


def _importer(ctx: Context, before: int) -> str | None:
    """The installed package whose file imported the missing module: the last site-packages frame before the error."""
    found = None
    for ln in ctx.lines:
        if ln.number >= before:
            break
        if (frame := FRAME.search(ln.text)) and (package := binary_package(frame.group("path"))):
            found = package
    return found


# pip prints a build backend's output between "... did not run successfully" and "[end of output]" (uv: under
# "[stderr]", then its hint): a module missing there is missing from the build's own isolated environment, which the
# resolver analyzer reads as a failed build
BUILD_OUTPUT_END = re.compile(
    r"\[end of output\]|This error originates from a subprocess|metadata-generation-failed|"
    r"This usually indicates a problem with the package or the build environment"  # uv's hint after a build
)
BUILD_OUTPUT_SPAN = 40  # lines from a missing module to the end marker of the build output it is part of
SETUP_SCRIPT = re.compile(r'File "(?P<path>[^"]*?[\\/]?(?P<script>(?:setup|install)\w*\.py))"', re.I)
SKIP_INSTALL = re.compile(r"(?<![\w-])--skip-(?:install|prepare-environment)\b")


def _in_build_output(ctx: Context, line: LogLine) -> bool:
    """The missing module is printed inside a package build's output (pip's subprocess block), not by the UI."""
    for later in ctx.lines:
        if later.number <= line.number:
            continue
        if later.number > line.number + BUILD_OUTPUT_SPAN or NO_MODULE.search(later.text):
            return False
        if BUILD_OUTPUT_END.search(later.text):
            return True
    return False


def _setup_script(ctx: Context, line: LogLine) -> str | None:
    """The setup/install script whose traceback raised this error (the frames just above it), if any."""
    for earlier in ctx.lines:
        if earlier.number >= line.number:
            break
        m = SETUP_SCRIPT.search(earlier.text) if earlier.number >= line.number - 12 else None
        if m and not INSTALLED_CODE.search(m.group("path")):  # pip's own commands/install.py is not a UI's setup
            return m.group("script")  # the outermost: the script that was run
    return None


def _root_missing(ctx: Context) -> tuple[LogLine, re.Match[str], str | None] | None:
    """The missing module to explain: the last one, unless an earlier, different one stopped a setup/install script
    (the later ones then follow from the requirements that script never installed)."""
    found = {ln.number: (ln, m) for ln, m in every(ctx.lines, NO_MODULE)}
    found |= {ln.number: (ln, m) for ln, m in every(ctx.lines, PATH_MODULE)}  # a path the other regex cuts short
    hits = [(ln, m) for _, (ln, m) in sorted(found.items()) if not _in_build_output(ctx, ln)]
    if not hits:
        return None
    line, m = hits[-1]
    first_line, first_m = hits[0]
    if first_m.group("module") != m.group("module") and _setup_script(ctx, first_line):
        return first_line, first_m, m.group("module")
    return line, m, None


def _no_module(ctx: Context) -> Finding | None:
    root = _root_missing(ctx)
    if root is None:
        return None
    line, m, then_missing = root
    if (by_path := PATH_MODULE.search(line.text)) is not None:
        module, plugin = by_path.group("module"), by_path.group("plugin")
        return _plugin_incomplete(line, {"module": module, "plugin": plugin}, module, plugin, ctx)
    module = m.group("module")
    top = module.split(".")[0]
    if (gone := removed_stdlib().get(top)) is not None:
        return _removed_from_python(ctx, line, module, gone)
    known = modules().get(module) or modules().get(top)
    if known is None and (model := _model_code(ctx, line, module)):
        return _model_code_missing(line, *model)
    where = ctx.plugin(line.number)
    facts = {"module": module, "package": (known.package if known else None) or top.replace("_", "-")}
    if where:
        facts["plugin"] = where
    if known is not None and known.kind != "package":
        return _not_provided(ctx, line, facts, module, known)
    if known is None and where and _plugin_own_package(module, where, ctx):
        return _plugin_incomplete(line, facts, module, where, ctx)
    if "." in module and known is None:
        return _submodule_missing(line, facts, module, where, ctx)
    return _not_installed(ctx, line, facts, known, then_missing)


# transformers imports a model's own code (trust_remote_code) as `transformers_modules.<folder>`; a node that puts a
# model folder on sys.path imports it by the folder's name. Such a name reads like a model: a size or version part
MODEL_CODE_FRAME = re.compile(r"transformers[\\/](?:dynamic_module_utils|models[\\/]auto[\\/]\w+)\.py|from_pretrained")
MODEL_LIKE = re.compile(
    r"(?:^|[_.])(?:base|large|small|tiny|medium|mini|xl|xxl|huge|ft|v\d+|\d+(?:p\d+)?[bm])(?:[_.]|$)", re.I
)
DYNAMIC_MODULE = re.compile(r"transformers_modules\.(?P<model>[^'\"\s.]+)[^'\"\s]*")
MODEL_CODE_SPAN = 30  # lines around the missing module searched for the loader's frame
MODEL_CODE_SOURCES = [
    "huggingface/transformers:src/transformers/dynamic_module_utils.py (get_class_from_dynamic_module)",
    "https://github.com/chflame163/ComfyUI_LayerStyle/issues/434",
]


def _model_code(ctx: Context, line: LogLine, module: str) -> tuple[str, str] | None:
    """(module, model folder) where the missing module is a model's own code: transformers'
    `transformers_modules.<folder>` (the folder's name as printed, hyphens kept), or a module named like a model
    folder that a transformers from_pretrained frame of the same traceback was loading."""
    top = module.split(".")[0]
    if top == "transformers_modules" and (whole := DYNAMIC_MODULE.search(line.text)):
        return whole.group(0), whole.group("model")
    if not MODEL_LIKE.search(top):
        return None
    near = (ln for ln in ctx.lines if abs(ln.number - line.number) <= MODEL_CODE_SPAN and ln is not line)
    return (module, top) if any(MODEL_CODE_FRAME.search(ln.text) for ln in near) else None


def _model_code_missing(line: LogLine, module: str, model: str) -> Finding:
    """A model's own Python code (its modeling/configuration files), not a package: pip cannot install it."""
    facts = {"module": module, "model": model}
    cause = (
        f"`{module}` is not a pip package: it is the model's own Python code (the modeling_*.py and "
        f"configuration_*.py files of the model folder '{model}'), which transformers (trust_remote_code) or the node "
        "imports by the folder's name while loading the model. That import failed: the model folder lacks its .py "
        "files (an incomplete download, or only the weights were copied), it is not where the node looks for it, or "
        "its name has characters transformers cannot import (a dot or hyphen in the folder name, e.g. 'Model-2.1'), "
        "or the installed transformers loads local code differently from what the node was written for."
    )
    fix = (
        f"Do not pip install `{module}`. Download the model again with all its files (the .py files and config.json "
        "next to the weights) into the folder the node's README names, with a folder name without dots; then update "
        "the node, and if it pins a transformers version, install that one in the UI's env."
    )
    return Finding(
        id="python-model-code-missing",
        title=f"{module} is the model's own code (trust_remote_code), which could not be imported",
        cause=cause,
        fix=fix,
        evidence=[line],
        facts=facts,
        source=MODEL_CODE_SOURCES,
    )


def _not_installed(
    ctx: Context, line: LogLine, facts: dict[str, str], known: PythonModule | None, then_missing: str | None
) -> Finding:
    """A top-level module the env lacks: a project's own module, the UI's own one after a failed update, or a
    package that was never installed."""
    module, where = facts["module"], facts.get("plugin")
    if known is None and not where and PROJECT_STYLE.fullmatch(module):
        return _project_module(line, facts, module)
    own = _ui_own_importer(ctx, line.number) if known is None and "." not in module and not where else None
    update_failed = first(ctx.lines, UPDATE_FAILED)
    if own and update_failed and update_failed[0].number < line.number:
        return _own_module(line, facts, module, own, ctx)
    cause, fix = _why_not_installed(ctx, line, facts, then_missing)
    return _finding(line, facts, cause, fix, known.sources if known else [SOURCE])


# a lowerCamelCase top-level name (myLib, utilsHelper) is how a project names its own module; PyPI projects are
# imported by lower-case names (the few mixed-case ones, PIL or Crypto, are in python_modules.yaml)
PROJECT_STYLE = re.compile(r"[a-z][a-z0-9]*[A-Z]\w*")


def _project_module(line: LogLine, facts: dict[str, str], module: str) -> Finding:
    """A missing module named the way a project names its own code: an import path problem before a pip one."""
    facts.pop("package", None)
    cause = (
        f"The code imports `{module}`, which this Python cannot find. A mixedCase name like this is how a project "
        "names its own module, not how PyPI packages are imported: most likely the script runs where its own "
        f"`{module}` is not on the import path (another working folder, a flat module imported as a package, a "
        "project not installed into the env)."
    )
    fix = (
        f"Run it from the project's root folder (`python -m pkg.module` there); make `{module}` a package (a folder "
        "with an `__init__.py`) if it is imported as one, or install the project into the env in editable mode "
        f"(`python -m pip install -e .` where its pyproject.toml is). Only if `{module}` is a published project, "
        "install it under the name its documentation gives (a PyPI name often differs from the import name)."
    )
    return _finding(line, facts, cause, fix, [SOURCE, "https://docs.python.org/3/tutorial/modules.html#packages"])


def _why_not_installed(ctx: Context, line: LogLine, facts: dict[str, str], then_missing: str | None) -> tuple[str, str]:
    """The cause and fix of a module missing from the env, with what the log says kept the install from running: a
    setup script this very error stopped (the later missing modules follow from it), or launch flags that skip it."""
    where = facts.get("plugin")
    cause, fix = _missing_cause(facts["module"], facts["package"], where, ctx), _missing_fix(ctx, facts, where)
    if then_missing and (script := _setup_script(ctx, line)):
        facts["then_missing"], facts["stopped"] = then_missing, script
        cause += (
            f" It stopped the install script {script} before it installed the requirements, so the `{then_missing}` "
            "missing later in the log follows from it: installing that one alone would not finish the install."
        )
        fix += f" Then run the install/setup script again (it installs the rest, {then_missing} included)."
    elif skipped := _skipped_install(ctx):
        facts["skipped"] = skipped
        cause += (
            f" The UI was started with {skipped}, which tells its launcher not to install its requirements: the "
            "venv never got them."
        )
        fix = (
            f"Start the UI once without {skipped} so its launcher installs all its requirements into its venv (then "
            f"add the flags back if you want a faster start); {facts['package']} alone would only move the error to "
            f"the next module the venv lacks. Where another tool installs the requirements (rigfit, a launcher), "
            f"reinstall them with it; for this one module: {fix[0].lower()}{fix[1:]}"
        )
    return cause, fix


def _skipped_install(ctx: Context) -> str | None:
    """The launch flags in the log that told an A1111-family launcher to skip installing requirements."""
    flags = {m.group(0) for line in ctx.lines for m in SKIP_INSTALL.finditer(line.text)}
    return " and ".join(sorted(flags)) or None


def _submodule_missing(line, facts: dict[str, str], module: str, where: str | None, ctx: Context) -> Finding:
    top = module.split(".")[0]
    cause = (
        f"`{top}` is installed but has no submodule `{module}`: the importing code was written for another "
        f"release of {top} (the module was added later or removed since)."
    )
    fix = (
        f"`{ctx.pip()} show {top}` and compare with the version the importing project requires "
        f"({'its requirements file' if not where else where + '/requirements.txt'}); install that version: "
        f'`{ctx.pip()} install "{facts["package"]}==X.Y"`, or upgrade the importing project.'
    )
    return _finding(line, facts, cause, fix, [SOURCE], kind="module-version-mismatch")


# Words of custom node/extension folder names that do not name a package of their own.
PLUGIN_NAME_WORDS = frozenset(
    {"comfyui", "comfy", "node", "nodes", "custom", "pack", "webui", "extension", "main", "master", "plugin", "suite"}
)


def _plugin_own_package(module: str, plugin: str, ctx: Context) -> bool:
    """A package named after the custom node/extension that imports it (`impact` in ComfyUI-Impact-Pack), found but
    without the submodule asked for, is that plugin's own package, shipped in its folder: unless the traceback shows
    it installed (site-packages/<top>/), as a plugin named after a PyPI library it wraps would have it."""
    top, dot, _ = module.partition(".")
    word = top.lower()
    if not dot or len(word) < 4 or word in PLUGIN_NAME_WORDS or word not in re.split(r"[-_.\s@]+", plugin.lower()):
        return False
    installed = re.compile(rf"(?:site|dist)-packages[\\/]+{re.escape(top)}[\\/]", re.I)
    return not any(installed.search(ln.text) for ln in ctx.lines)


def _plugin_incomplete(line, facts: dict[str, str], module: str, plugin: str, ctx: Context) -> Finding:
    top = module.split(".")[0]
    facts["package"] = f"{plugin} (its own `{top}` package)"
    comfy = ctx.facts.get("ui") == "comfyui" or "custom_nodes" in line.text
    folder = f"custom_nodes/{plugin}" if comfy else f"extensions/{plugin}"
    how = (
        "ComfyUI-Manager (or `git clone` of its repository into custom_nodes)"
        if comfy
        else "the UI's Extensions tab (or `git clone` of its repository into extensions)"
    )
    cause = (
        f"`{top}` is {plugin}'s own package (it ships in {folder}, the name is the plugin's), not something to install "
        f"from PyPI: {plugin}'s files are incomplete or from another release than its loader expects (an update that "
        "did not finish, a copied or renamed folder, a download of the wrong branch)."
    )
    fix = (
        f"Delete {folder} and install {plugin} again through {how}; update the UI too if the plugin's page asks for "
        f"a newer one. Do not `pip install {top}`: a package of that name on PyPI, if any, is another project."
    )
    return _finding(line, facts, cause, fix, [SOURCE, PLUGIN_REINSTALL_SOURCE], kind="plugin-incomplete")


INSTALLED_CODE = re.compile(r"site-packages|dist-packages|[\\/]lib[\\/]python3|[\\/]Lib[\\/]|^<frozen", re.I)
UPDATE_FAILED = re.compile(
    r"\b(?:git|clone|pull|update|checkout)\b[^\n]{0,40}\bfail|"
    r"\bfail\w*\b[^\n]{0,20}\b(?:to )?(?:clone|pull|update|checkout)",
    re.I,
)  # the application's own update did not finish: a file of it may be missing
IMPORT_LINE = re.compile(r"^\s*(?:import (?P<a>\w+)|from (?P<b>\w+) import)")


def _ui_own_importer(ctx: Context, before: int) -> str | None:
    """The file that ran the failing import when it is the application's own code (a launcher or module in the UI's
    folder, not an installed package), and the import is a plain top-level `import X` right under it."""
    frames = [ln for ln in ctx.lines if ln.number < before and FRAME.search(ln.text)]
    if not frames:
        return None
    frame = frames[-1]
    path = FRAME.search(frame.text).group("path")  # type: ignore[union-attr]
    code = next((ln.text for ln in ctx.lines if ln.number == frame.number + 1), "")
    if INSTALLED_CODE.search(path) or not IMPORT_LINE.match(code):
        return None
    return path


def _own_module(line, facts: dict[str, str], module: str, importer: str, ctx: Context) -> Finding:
    """A module the application's own file imports, that no known package provides, in a log where the
    application's update failed: a file of the application that its checkout lacks, not a package to pip install."""
    folder = re.split(r"[\\/]", importer)
    name, parent = folder[-1], (folder[-2] if len(folder) > 1 else "the UI")
    facts["importer"] = importer
    cause = (
        f"{parent}'s own {name} imports `{module}`, no package rigfit knows provides a module of that name, and the "
        f"log shows {parent}'s update failing: it is most likely a file of {parent} itself ({module}.py or {module}/ "
        f"next to {name}) that the unfinished update left out; a requirement that was never installed is the other "
        "possibility."
    )
    fix = (
        f"Look for it in the UI's folder: if {parent}/{module}.py (or {parent}/{module}/) is missing, update the UI "
        "(`git pull` in its folder; a portable build: run its update script or download the release again) and "
        f"start it again. If the file is there, install the UI's requirements into its environment: `{ctx.pip()} "
        "install -r requirements.txt` from the UI's folder. Do not `pip install` a package named after the module: "
        "a file of the UI is not on PyPI."
    )
    return _finding(line, facts, cause, fix, [SOURCE], kind="module-not-in-checkout")


def _missing_cause(module: str, package: str, where: str | None, ctx: Context) -> str:
    who = f"{where} (a custom node/extension)" if where else "the code"
    env = f" ({ctx.env_python})" if ctx.env_python else ""
    return (
        f"{who} imports `{module}`, which the Python environment it runs in{env} does not have: the package "
        f"`{package}` was never installed there (its requirements were not installed, or were installed into another "
        "Python than the one the UI runs)."
    )


def _missing_fix(ctx: Context, facts: dict[str, str], where: str | None) -> str:
    known = modules().get(facts["module"]) or modules().get(facts["module"].split(".")[0])
    install = f"`{ctx.pip()} install {facts['package']}`"
    if where and ctx.facts.get("ui") == "comfyui":
        install = f"`{ctx.pip()} install -r custom_nodes/{where}/requirements.txt` (or {install})"
    elif where:
        install = f"{install} (the extension's requirements: extensions/{where}/requirements.txt or install.py)"
    how = f" ({known.fix})" if known and known.fix else ""
    return (
        f"Install it into the same environment the UI runs with (its venv's python, not the system pip): {install}"
        f"{how}, then restart the UI. In an env rigfit installed, `rigfit add --env DIR {facts['package']}` does it "
        "with torch protected."
    )


def _cannot_import(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, CANNOT_IMPORT) or last(ctx.lines, NO_ATTRIBUTE)
    if hit is None:
        return None
    line, m = hit
    module, name = m.group("module"), m.group("name")
    if "partially initialized module" in line.text or "circular import" in line.text:
        return _circular(line, module, name)
    top = module.split(".")[0]
    internal = modules().get(top)
    if internal is not None and internal.kind == "ui-internal" and "site-packages" in (m.groupdict().get("rest") or ""):
        return _shadowed(line, module, name, m.group("rest").strip(" ()"), ctx)
    facts = {"module": module, "name": name, "package": _package_of(top)}
    where = ctx.plugin(line.number)
    if where:
        facts["plugin"] = where
    entry = name_entry(module, name)
    if entry is not None:
        return _known_name(line, facts, entry, ctx)
    if internal is not None and internal.kind == "ui-internal":
        return _ui_name_missing(line, facts, where, ctx)
    if top in sys.stdlib_module_names:
        return _stdlib_name(line, facts, module, name, ctx)
    if top == "torch" and (caller := _torch_caller(ctx, line.number)):
        return _built_for_other_torch(line, facts, caller, ctx)
    if (dependent := _caller_package(ctx, line.number, top)) and _package_of(dependent) != facts["package"]:
        return _dependency_release(line, facts, _package_of(dependent), ctx)
    return _name_missing(line, facts, name, where, internal, ctx)


# "TypeError: init() got an unexpected keyword argument 'x'": a module-level function (no class in its name) or a
# class's __init__; a method ("Module.load_state_dict()") is called through a variable, which names no package
UNEXPECTED_KEYWORD = re.compile(
    r"(?:^|[\s:!\"(])(?:(?P<cls>[A-Z]\w*)\.__init__|(?P<func>[a-z_]\w*))\(\) got an unexpected keyword argument "
    r"'(?P<keyword>\w+)'"
)
# ComfyUI's core passing transformer_options to an old node's patch is a known issue of its own (comfyui-node-core-skew)
KNOWN_KEYWORD_SKEWS = ("transformer_options",)
KEYWORD_SOURCE = "https://docs.python.org/3/library/exceptions.html#TypeError"


def _unexpected_keyword(ctx: Context) -> Finding | None:
    """A function of an installed package called with a keyword it does not take, the call's own line showing the
    package ("comfy_aimdo.control.init(simple_vram_headroom=...)", "httpcore.AsyncConnectionPool("): the caller was
    written for another release of that package. Nothing is said when the call line is not in the log, or names a
    variable, the UI's own module or the standard library."""
    hit = last(ctx.lines, UNEXPECTED_KEYWORD)
    if hit is None or hit[1].group("keyword") in KNOWN_KEYWORD_SKEWS:
        return None
    line, m = hit
    callee = m.group("cls") or m.group("func")
    call = re.compile(rf"(?<![\w.])(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.{re.escape(callee)}\(")
    near = [ln for ln in ctx.lines if line.number - 3 <= ln.number < line.number]
    found = next((c for ln in reversed(near) if (c := call.search(ln.text))), None)
    if found is None:
        return None
    module = found.group("module")
    top = module.split(".")[0]
    known = modules().get(top)
    installed = any(binary_package(ln.text) == top for ln in ctx.lines)
    if top in sys.stdlib_module_names or (known is not None and known.kind == "ui-internal"):
        return None
    if known is None and not installed:
        return None  # "mm.f(" may be an alias or a variable: only a package the KB or the log shows is named
    facts = {"module": module, "name": callee, "keyword": m.group("keyword"), "package": _package_of(top)}
    return _keyword_mismatch(ctx, line, facts, known)


def _keyword_mismatch(ctx: Context, line: LogLine, facts: dict[str, str], known: PythonModule | None) -> Finding:
    package, keyword, where = facts["package"], facts["keyword"], f"{facts['module']}.{facts['name']}"
    caller = _frame_before(ctx, line.number)
    if caller:
        facts["caller"] = caller
    by = f"The calling code ({caller})" if caller else "The calling code"
    cause = (
        f"{by} passes `{keyword}=` to `{where}`, and the installed {package} does not take it: the caller was "
        f"written for another release of {package}, usually a newer one (new keywords come with new releases), so "
        "the two were updated at different times."
    )
    check = (
        f"`{ctx.pip()} show {package}` and compare with the version the caller's requirements name (a UI's "
        f"requirements.txt; `{ctx.pip()} check` for an installed caller), then install that release"
    )
    if known is not None and known.fix:
        fix = f"{check}. {known.fix[:1].upper()}{known.fix[1:]}."
    else:
        fix = (
            f'{check} (`{ctx.pip()} install "{package}==X.Y.Z"`; if nothing names one, '
            f"`{ctx.pip()} install -U {package}`)."
        )
    sources = [KEYWORD_SOURCE, PIP_CHECK] + (known.sources if known is not None else [])
    return _finding(line, facts, cause, fix, sources, kind="keyword-version-mismatch")


def _frame_before(ctx: Context, before: int) -> str | None:
    """The file of the last traceback frame before `before`: the code that made the failing call."""
    found = None
    for ln in ctx.lines:
        if ln.number >= before:
            break
        if m := FRAME.search(ln.text):
            found = m.group("path")
    return found


def _dependency_release(line: LogLine, facts: dict[str, str], dependent: str, ctx: Context) -> Finding:
    """A name missing from package A, looked up by installed package B's own file: B was installed at a release
    that needs another A (pip installed one of the two without the other); B's metadata says which A it needs."""
    facts["needed_by"] = dependent
    package, name, module = facts["package"], facts["name"], facts["module"]
    cause = (
        f"The installed {dependent} uses `{module}.{name}` (the failing line is in {dependent}'s own files), and the "
        f"installed {package} has no such name: the two were installed at releases that do not fit together, "
        f"usually a {dependent} newer than the {package} beside it (an upgrade of one without the other)."
    )
    fix = (
        f"`{ctx.pip()} check` prints the {package} range {dependent} requires (`{ctx.pip()} show {dependent}` lists "
        f'its dependencies); install a {package} in that range (`{ctx.pip()} install "{package}>=X.Y"`, usually '
        f"`{ctx.pip()} install -U {package}`), or install the {dependent} release the UI pins so both are of one era."
    )
    return _finding(line, facts, cause, fix, [PIP_CHECK], kind="dependency-release-mismatch")


def _caller_package(ctx: Context, before: int, imported: str) -> str | None:
    """The installed package whose file the traceback was last in before the error line, when it is not the package
    the name was looked up in (nor importlib)."""
    caller = None
    for ln in ctx.lines:
        if ln.number >= before:  # the error line names the module the name was looked up in, not the caller
            break
        if (pkg := binary_package(ln.text)) is not None:
            caller = None if pkg.split(".")[0] in (imported, "importlib") else pkg
    return caller


# transformers' and diffusers' lazy modules re-raise an import error as "Failed to import X because of the following
# error (look up to see its traceback)": X is the package whose code needs the missing name
LAZY_IMPORT = re.compile(r"Failed to import (?P<module>[\w.]+) because of the following error")


def _lazy_importer(ctx: Context, imported: str) -> str | None:
    """The top package a lazy-import wrapper names as the one that failed, when it is not the package looked in."""
    hit = last(ctx.lines, LAZY_IMPORT)
    top = hit[1].group("module").split(".")[0] if hit else None
    return top if top and top != imported else None


def _object_attribute(ctx: Context) -> Finding | None:
    """ "'FreeTypeFont' object has no attribute 'getsize'": a method a release removed, when python_names.yaml knows
    that class and name (any other object attribute error is the code's own business: nothing is said)."""
    hit = last(ctx.lines, OBJECT_ATTRIBUTE)
    if hit is None:
        return None
    line, m = hit
    entry = class_name_entry(m.group("cls"), m.group("name"))
    if entry is None:
        return None
    facts = {"module": entry.module, "name": m.group("name"), "class": m.group("cls"), "package": entry.package}
    return _known_name(line, facts, entry, ctx)


def _known_name(line: LogLine, facts: dict[str, str], entry: PythonName, ctx: Context) -> Finding:
    """A name python_names.yaml knows: the release that removed or added it, and that entry's fix."""
    module, name = facts["module"], facts["name"]
    facts["package"] = entry.package
    when = (
        f"{entry.package} {entry.removed_in} removed it"
        if entry.removed_in
        else f"it exists from {entry.package} {entry.added_in} on"
    )
    owner = f"{entry.package}'s {facts['class']} objects" if "class" in facts else f"{entry.package}'s {module}"
    era = (
        f"the code that uses it was written for a {entry.package} older than {entry.removed_in}"
        if entry.removed_in
        else f"the code that uses it needs {entry.package} {entry.added_in} or newer"
    )
    cause = f"`{name}` is not in the installed {owner}: {when}, and {era}."
    fix = entry.fix
    importer = _caller_package(ctx, line.number, module.split(".")[0])
    if entry.added_in and (lazy := _lazy_importer(ctx, module.split(".")[0])):
        facts["imported_by"] = lazy
        cause += f" Here it is {lazy} that uses it, so this {lazy} release needs a newer {entry.package}."
    if entry.removed_in and importer and _package_of(importer) != entry.package:
        facts["imported_by"] = importer = _package_of(importer)
        cause += f" The code that uses it is the installed {importer}'s."
        fix += (
            f". Here the importer is {importer}: a release of {importer} made for {entry.package} "
            f"{entry.removed_in} or newer (`{ctx.pip()} install -U {importer}`) is the fix that keeps "
            f"{entry.package} as it is"
        )
    if (opposite := _opposite_name(ctx, entry)) is not None:
        cause, fix = _both_eras(facts, entry, *opposite)
    if entry.package == "python":
        facts["python_removed_in"] = str(entry.removed_in or entry.added_in)
        cause = (
            f"`{module}.{name}` is part of Python itself, and {when.replace('python', 'Python')}: the code "
            f"(or an old package it calls) was written for {'an older' if entry.removed_in else 'a newer'} Python "
            f"than the one this environment runs{f' ({ctx.python})' if ctx.python else ''}."
        )
    sources = entry.sources + (opposite[1].sources if opposite else [])
    finding = _finding(line, facts, cause, fix, sources, kind="name-version-mismatch")
    finding.confidence = KNOWN_NAME_CONFIDENCE  # the KB knows this very name: as specific as a known issue
    return finding


def _opposite_name(ctx: Context, entry: PythonName) -> tuple[str, PythonName] | None:
    """Another name of the same package missing in the log the other way round (one removed, one added)."""
    for _, m in every(ctx.lines, CANNOT_IMPORT):
        other = name_entry(m.group("module"), m.group("name"))
        if other is not None and other.package == entry.package and bool(other.removed_in) != bool(entry.removed_in):
            return m.group("name"), other
    return None


def _both_eras(facts: dict[str, str], entry: PythonName, other_name: str, other: PythonName) -> tuple[str, str]:
    """Names missing both ways from one package: its importers were made for an older and a newer release of it."""
    names = {facts["name"]: entry, other_name: other}
    removed = next(name for name, e in names.items() if e.removed_in)
    added = next(name for name, e in names.items() if e.added_in)
    old, new, package = names[removed], names[added], entry.package
    facts["also_missing"] = other_name
    cause = (
        f"Two names are missing from {package}, one each way: {package} {old.removed_in} removed `{removed}`, and "
        f"`{added}` exists only from {package} {new.added_in} on. The packages in this env were made for an older "
        f"and a newer {package}, so moving {package} alone cannot fix both: the one that imports `{removed}` is too "
        "old."
    )
    fix = (
        f"Keep {package} at {new.added_in} or newer for `{added}`, and bring the importer of `{removed}` up to "
        f"date: {old.fix[:1].lower()}{old.fix[1:]}"
    )
    return cause, fix


def _name_missing(
    line: LogLine, facts: dict[str, str], name: str, where: str | None, internal: PythonModule | None, ctx: Context
) -> Finding:
    """A name the KB does not know missing from a package: another release of it is needed; where the package's
    releases come from when python_modules.yaml says (not all of them are on PyPI)."""
    module = facts["module"]
    importer = f"{where}" if where else "the importing code"
    cause = (
        f"The installed {facts['package']} has no `{name}` in `{module}`: {importer} was written for another release "
        "of "
        f"{facts['package']} (a newer one if {name} is a recent addition, an older one if it was removed)."
    )
    check = f"`{ctx.pip()} show {facts['package']}` and compare with the version {importer}'s requirements name, then "
    sources = [SOURCE.replace("ModuleNotFoundError", "ImportError")]
    if internal is not None and internal.kind == "package" and internal.fix:
        # its releases do not all come from a plain `pip install -U` (python_modules.yaml says from where)
        fix = f"{check}install that release; where its releases come from matters here: {internal.fix}."
        sources += internal.sources
    else:
        fix = (
            f'{check}install exactly that one (`{ctx.pip()} install "{facts["package"]}==X.Y.Z"`); if nothing names '
            f"one, try `{ctx.pip()} install -U {facts['package']}` first, and if the name was removed, the last "
            "release that had it."
        )
    return _finding(line, facts, cause, fix, sources, kind="name-version-mismatch")


def _ui_name_missing(line: LogLine, facts: dict[str, str], where: str | None, ctx: Context) -> Finding:
    """A name missing from a module that is the UI's own file (launch, modules, comfy...): the code asking for it was
    written for another UI or release of it; never a pip package (a PyPI project of that name is unrelated)."""
    module, name = facts["module"], facts["name"]
    facts["package"] = f"the UI's own {module}"
    comfy = ctx.facts.get("ui") == "comfyui" or module.split(".")[0] in ("comfy", "comfy_extras", "folder_paths")
    who = f"{where} ({'a custom node' if comfy else 'an extension'})" if where else "the code that imports it"
    why = (
        "a ComfyUI core older than the code that needs it, or one that removed the name"
        if comfy
        else "a fork such as Forge, Forge Neo, reForge or SD.Next changed or dropped it, or the UI is older than the "
        "code that needs it"
    )
    cause = (
        f"`{module}` is the UI's own module (a file of the UI, not a pip package), and this UI's `{module}` has no "
        f"`{name}`: {who} was written for another UI or release ({why})."
    )
    if where and comfy:
        fix = (
            "Update ComfyUI itself first (its update script, `git pull` in the ComfyUI folder, or Manager's \"Update "
            f"ComfyUI\"): custom nodes follow ComfyUI's latest core, so a name {where} asks for that this core lacks "
            f"usually means the core is older than the node. If ComfyUI is already current, the core removed the name: "
            f"update {where} (`git pull` in custom_nodes/{where}, or the Manager), or disable it and restart."
        )
    elif where:
        folder = f"extensions/{where}"
        fix = (
            f"Update {where} (`git pull` in {folder}, or the UI's extension manager); if it does not support this UI "
            f"or release, disable it or move {folder} out of the folder and restart. If {where} needs a newer UI, "
            "update the UI instead."
        )
    else:
        fix = "Update the UI so all its files come from one release (`git pull` in its folder, or its update script)."
    fix += (
        f" Do not `pip install {module.split('.')[0]}`: a PyPI project of that name is unrelated and would shadow it."
    )
    return _finding(
        line,
        facts,
        cause,
        fix,
        [SOURCE.replace("ModuleNotFoundError", "AttributeError"), *modules()[module.split(".")[0]].sources],
        kind="ui-name-mismatch",
    )


def _stdlib_name(line, facts: dict[str, str], module: str, name: str, ctx: Context) -> Finding:
    """A name missing from a standard-library module: the Python version differs from the code's, never a pip fix."""
    facts["package"] = "python"
    on = f"Python {ctx.python}" if ctx.python else "this environment's Python"
    cause = (
        f"`{module}` is part of Python's standard library, not a pip package: {on} has no `{name}` in it, so the code "
        "(or an old package it calls) was written for another Python release (names are removed after deprecation)."
    )
    fix = (
        "Upgrade the package whose file is the last site-packages frame of the traceback (old setuptools/pkg_resources "
        f"are the usual ones: `{ctx.pip()} install -U setuptools`), or create the env with the Python release the UI "
        "documents; do not pip install the standard-library module."
    )
    return _finding(
        line, facts, cause, fix, ["https://docs.python.org/3/whatsnew/index.html"], kind="name-version-mismatch"
    )


def _torch_caller(ctx: Context, before: int) -> str | None:
    """The installed package (not torch itself) whose file the traceback was in when a torch name was missing."""
    caller = None
    for ln in ctx.lines:
        if ln.number > before:
            break
        if (pkg := binary_package(ln.text)) and pkg.split(".")[0] not in ("torch", "importlib"):
            caller = pkg
    return caller


def _built_for_other_torch(line, facts: dict[str, str], caller: str, ctx: Context) -> Finding:
    """A package compiled or written against torch asks torch for a name this torch lacks: the pair does not match."""
    facts["package"], facts["importer"] = caller, caller
    have = f" {ctx.torch}" if ctx.torch else ""
    cause = (
        f"{caller} uses `{facts['module']}.{facts['name']}`, which the installed torch{have} does not have: {caller} "
        "was made for another (usually newer) torch, or this torch build leaves that part out (torch.distributed on "
        "some Windows, ROCm and embedded builds)."
    )
    fix = (
        f"Install the {caller} release made for this torch (`{ctx.pip()} show torch` gives its version; for "
        f"xformers: `{ctx.pip()} install --no-deps xformers==<the release for that torch>`), or upgrade torch with "
        f"its torchvision/torchaudio from one index."
    )
    if caller == "xformers":
        fix += " Or uninstall xformers: the UIs fall back to PyTorch's SDPA attention."
    return _finding(line, facts, cause, fix, ["rigfit/kb/xformers_torch.yaml", SOURCE], kind="built-for-other-torch")


def _circular(line, module: str, name: str) -> Finding:
    cause = (
        f"`{module}` was imported while it was still being initialised: a file or folder in the working directory "
        f"shadows the package `{module.split('.')[0]}` (a script named like it), or two modules import each other."
    )
    fix = (
        f"Look for a file named `{module.split('.')[0]}.py` (or a folder of that name) in the directory you start from "
        "and rename it, delete its __pycache__, and start again."
    )
    return _finding(line, {"module": module, "name": name}, cause, fix, [SOURCE], kind="circular-import")


def _shadowed(line, module: str, name: str, path: str, ctx: Context) -> Finding:
    facts = {"module": module, "name": name, "path": path}
    cause = (
        f"`{module}` should be the UI's own folder, but Python found a pip package of that name first ({path}), "
        f"which has no `{name}`: an unrelated package named `{module}` is installed in this environment."
    )
    fix = (
        f"`{ctx.pip()} uninstall -y {module}` (the package in site-packages), then start the UI with its own launcher "
        "from the UI's folder."
    )
    return _finding(line, facts, cause, fix, [SOURCE], kind="module-shadowed")


def _package_of(top: str) -> str:
    known = modules().get(top)
    return (known.package if known and known.package else None) or top


def _undefined_symbol(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, UNDEFINED)
    if hit is None:
        return None
    line, m = hit
    path, symbol = m.group("file"), m.group("symbol")
    package = binary_package(path) or _library_package(path.rsplit("/", 1)[-1])
    if (known := modules().get(package)) is not None and known.package:
        package = known.package
    facts = {"library": path.rsplit("/", 1)[-1], "package": package, "symbol": symbol}
    if ctx.torch:
        facts["torch"] = ctx.torch
    if package in COMPANIONS and ctx.torch and (pair := companion_of(ctx.torch, package)):
        return _companion_mismatch(line, facts, pair, ctx)
    if "__cxx11" in symbol and re.search(r"_ZN3c10|_ZN2at|torch", symbol):
        built = (
            "the other C++ ABI than the installed torch (the cxx11abiTRUE/FALSE part of prebuilt wheel names), or "
            "another torch release"
        )
        fix = (
            f'Check torch\'s ABI: `python -c "import torch; print(torch.__version__, torch._C._GLIBCXX_USE_CXX11_ABI)"`'
            f", then install the {package} wheel whose name has the same torch version and cxx11abi value "
            f"(TRUE/FALSE), or build it against this torch (`{ctx.pip()} install --no-build-isolation "
            f"--no-cache-dir {package}`); putting torch back to the version it was built for also works."
        )
    elif re.search(r"c10|at6Tensor|torch|caffe2|ATen|_ZN3c|_ZN2at", symbol):
        built = "another torch release (or a torch with another C++ ABI / CUDA variant) than the one installed"
        fix = (
            f"Install the {package} release built for the installed torch{' ' + ctx.torch if ctx.torch else ''}, from "
            f"the same index as torch, or rebuild it against it (`{ctx.pip()} install --no-build-isolation "
            f"--no-cache-dir --force-reinstall {package}`); putting torch back to the version it was built for also "
            "works; for xformers or torchvision, reinstall the matching pair in one pip command with torch"
            + (" (xformers is optional: `pip uninstall -y xformers` is enough)." if package == "xformers" else ".")
        )
    elif re.search(r"cuda|cublas|cudnn|nccl|cusparse", symbol, re.I):
        built = "another CUDA version than the CUDA libraries it finds at run time"
        fix = (
            f"Install the {package} build for your torch's CUDA (the +cuXXX of torch.__version__), from the same index."
        )
    elif re.search(r"^_?Py|^PyUnicode|^_Py", symbol):
        built = "another Python version than the one running it"
        fix = (
            f"Reinstall {package} with this Python (`{ctx.pip()} install --force-reinstall --no-cache-dir {package}`)."
        )
    else:
        built = "other versions of the libraries it links to than the ones installed"
        fix = (
            f"Reinstall {package} so it matches what is installed: `{ctx.pip()} install --force-reinstall "
            f"--no-cache-dir {package}`."
        )
    cause = (
        f"{facts['library']} ({package}) needs the symbol {symbol[:80]}, which is not there: it was built against "
        f"{built}."
    )
    # a torch symbol in a library whose package is known (its site-packages folder, python_modules.yaml): this names
    # the package and its pip line, which torch-extension-abi-mismatch leaves generic; a bare file name is no package
    named = package != facts["library"]
    torch_symbol = named and bool(re.search(r"c10|at6Tensor|torch|caffe2|ATen|_ZN3c|_ZN2at", symbol))
    return _finding(
        line,
        facts,
        cause,
        fix,
        ["https://pytorch.org/docs/stable/cpp_extension.html"],
        kind="binary-abi-mismatch",
        supersedes=("torch-extension-abi-mismatch",) if torch_symbol else (),
    )


def _library_package(file_name: str) -> str:
    """The package a bare library file name belongs to when the path is not shown: libtorchaudio.so -> torchaudio
    (when python_modules.yaml knows that module), else the file name itself."""
    stem = re.sub(r"\.(?:so|pyd)(?:\.[\d.]+)?$", "", file_name).split(".cpython")[0]
    for candidate in (stem.removeprefix("lib"), stem.removeprefix("_")):
        if candidate in COMPANIONS or candidate in modules():
            return candidate
    return file_name


def _companion_mismatch(line: LogLine, facts: dict[str, str], release: str, ctx: Context) -> Finding:
    """torchvision/torchaudio's compiled library needs a symbol the installed torch lacks: they are built for one
    torch release each, and pip installed another (one was pinned, the other was not)."""
    package, torch = facts["package"], facts["torch"]
    facts["needs"] = f"{package}=={release}"
    variant = torch.partition("+")[2]
    index = f" --index-url https://download.pytorch.org/whl/{variant}" if variant else ""
    cause = (
        f"{facts['library']} ({package}) needs the symbol {facts['symbol'][:80]}, which torch {torch} does not have: "
        f"each {package} release is built for one torch release, and this one was made for another (typically "
        f"torch was pinned and {package} was not, so pip took the newest {package})."
    )
    fix = (
        f'`{ctx.pip()} install "{package}=={release}"{index}`, the {package} release of torch {torch.split("+")[0]}, '
        "from the same index as torch (or list torch, torchvision and torchaudio with their versions in one pip "
        "command)."
    )
    return _finding(
        line,
        facts,
        cause,
        fix,
        [COMPANION_SOURCE],
        kind="binary-abi-mismatch",
        supersedes=("torch-extension-abi-mismatch",),
    )


NUMPY_1_IN_2 = re.compile(r"compiled using NumPy 1\.x|numpy\.dtype size changed|_ARRAY_API not found", re.I)
PACKAGE_HINT = re.compile(r"docs\.(?P<docs>[a-z]\w+)\.(?:dev|io|org)\b|Failed to import (?P<failed>[A-Za-z]\w+)")
NOT_A_BINARY = ("numpy", "python", "pytorch", "pip", "readthedocs")


def _numpy_abi(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, NUMPY_ABI)
    if hit is None:
        return None
    line, _ = hit
    facts = {"package": "numpy"}
    if binary := _numpy_user(ctx, line.number):
        facts["compiled_package"] = binary
    if binary and not NUMPY_1_IN_2.search(line.text):
        cause = (
            f"{binary} is a compiled package built against another NumPy major version than the one installed (NumPy 2 "
            f"changed the C ABI: extensions built for 1.x do not load with 2.x, and builds that need 2.x do not load "
            "with 1.x); the message does not say which side is newer."
        )
        fix = (
            f'`{ctx.pip()} show numpy {binary}` shows both: with NumPy 2 installed, `{ctx.pip()} install "numpy<2"` or '
            f"upgrade {binary}; with NumPy 1.x installed (a UI that pins it), install the release of {binary} built "
            f"for NumPy 1. If the UI uses {binary} only as an optional accelerator, uninstalling it "
            f"(`{ctx.pip()} list` shows the name it was installed under) also ends the error."
        )
    else:
        who = binary or "A compiled package"
        cause = (
            f"{who} was built against NumPy 1.x and the environment now has NumPy 2 (or the other way round): "
            "NumPy 2 changed the C ABI, so extensions built for one do not load with the other."
        )
        fix = (
            f'`{ctx.pip()} install "numpy<2"` (1.26.4) when torch or another compiled package predates NumPy 2 '
            "(torch before 2.3, opencv before 4.10, older onnxruntime/scikit-image), or upgrade "
            f"{binary or 'the package the traceback names'} to a release built for NumPy 2."
        )
    return _finding(
        line,
        facts,
        cause,
        fix,
        ["https://numpy.org/devdocs/dev/depending_on_numpy.html#numpy-2-abi-handling"],
        kind="numpy-abi",
    )


def _numpy_user(ctx: Context, before: int) -> str | None:
    """The compiled package that failed against NumPy: the last installed package in the traceback before the error,
    or the project the message points to (its docs site, "Failed to import X")."""
    found = None
    for ln in ctx.lines:
        if ln.number > before:
            break
        frame = FRAME.search(ln.text)
        package = binary_package(frame.group("path")) if frame else None
        if package is None and before - ln.number <= 12 and (m := PACKAGE_HINT.search(ln.text)):
            package = (m.group("docs") or m.group("failed")).lower()
        if package and package.lower() not in NOT_A_BINARY:
            found = package
    return found


def _finding(
    line,
    facts: dict[str, str],
    cause: str,
    fix: str,
    source: list[str],
    kind: str = "module-not-found",
    supersedes: tuple[str, ...] = (),
) -> Finding:
    titles = {
        "module-not-found": f"Python cannot find the module {facts.get('module')}",
        "module-not-in-checkout": f"{facts.get('module')}, imported by the application's own code, is missing",
        "plugin-incomplete": f"{facts.get('module')} belongs to the custom node/extension itself, whose files are "
        "incomplete",
        "module-not-provided": f"{facts.get('module')} was removed from {facts.get('package')} {facts['removed_in']}"
        if "removed_in" in facts
        else f"{facts.get('module')} is missing from this Python installation"
        if facts.get("part_of") == "python"
        else f"{facts.get('module')} does not come from a pip package of that name",
        "module-version-mismatch": f"{facts.get('module')} does not exist in the installed {facts.get('package')}",
        "name-version-mismatch": f"{facts.get('name')} is not in the installed {facts.get('package')}"
        if facts.get("package") != "python"
        else f"{facts.get('name')} is not in this Python's {facts.get('module')}",
        "circular-import": f"{facts.get('module')} is shadowed or imported circularly",
        "ui-package-unreachable": f"{facts.get('module')} is the UI's own package, and the Python that imported it "
        "cannot see the UI's folder",
        "ui-package-missing": f"{facts.get('module')} is the UI's own package, and the UI's folder does not have it",
        "ui-name-mismatch": f"{facts.get('name')} is not in the UI's own {facts.get('module')}: the code asking for "
        "it was written for another UI or release",
        "module-shadowed": f"A pip package named {facts.get('module')} hides the UI's own {facts.get('module')}",
        "binary-abi-mismatch": f"{facts.get('package')}'s compiled library does not match what is installed",
        "dependency-release-mismatch": f"The installed {facts.get('needed_by')} needs another release of "
        f"{facts.get('package')}",
        "numpy-abi": "A compiled package does not match the installed NumPy (1.x vs 2.x)",
        "built-for-other-torch": f"{facts.get('importer')} does not match the installed torch",
        "keyword-version-mismatch": f"The installed {facts.get('package')}'s {facts.get('name')} does not take "
        f"{facts.get('keyword')}=: the caller needs another release of it",
    }
    return Finding(
        id=f"python-{kind}",
        title=titles[kind],
        cause=cause,
        fix=fix,
        evidence=[line],
        facts=facts,
        source=source,
        supersedes=supersedes,
    )
