"""`rigfit resolve`: a working set of packages for a given torch and Python, each knowledge-base pin with its reason,
or the two requirements that cannot coexist.

The set is resolved by uv against the package metadata of the indexes (`uv pip compile --python-version`), so it
needs no interpreter of that version. A torch with a local version (2.1.0+cu121) is resolved as its public release
(2.1.0): the PyTorch index's build has the same requirements apart from the CUDA libraries it bundles. Packages whose
prebuilt wheels live on their own index (pytorch3d) are checked against the KB's conditions instead and listed with
their install line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from rigfit.env.installer import read_pip_config, uv_binary
from rigfit.env.overrides import resolver_cause
from rigfit.env.protect import normalize
from rigfit.kb.schemas import Pin
from rigfit.plan.knowledge import in_range, pins
from rigfit.records import field, record

DEPENDENCIES_OF_SEPARATE = {"pytorch3d": ["fvcore", "iopath"]}  # what `--no-index` cannot fetch for it


class ResolveError(Exception):
    """The input cannot be resolved at all (bad version, no uv); the message says what to give instead."""


@record
class Resolution:
    torch: str
    python: str
    packages: dict[str, str] = field(default_factory=dict)  # normalized name -> version
    pins: list[tuple[str, str, str]] = field(default_factory=list)  # (requirement, reason, kb id)
    separate: list[tuple[str, str]] = field(default_factory=list)  # (requirement, install line)
    conflict: str | None = None
    basis: str = "package metadata (uv pip compile); nothing installed"


def applicable_pins(torch: str, names: set[str]) -> list[Pin]:
    """KB pins that this torch or these packages call for (the "always" ones, spec >=0, say nothing)."""
    chosen = []
    for pin in pins():
        if pin.spec == ">=0":
            continue
        by_torch = bool(pin.applies_if_torch) and in_range(torch, pin.applies_if_torch) is True
        by_package = bool(set(pin.applies_with) & names)
        if by_torch or by_package:
            chosen.append(pin)
    return chosen


def _separate(pin: Pin, torch: str, python: str) -> tuple[str | None, str | None]:
    """(install line, conflict) for a package from its own index."""
    public, _, variant = torch.partition("+")
    needs = []
    if pin.requires_torch and not in_range(public, pin.requires_torch):
        needs.append(f"torch {pin.requires_torch}")
    if pin.requires_cuda_variant and variant not in pin.requires_cuda_variant:
        needs.append(f"a {'/'.join(pin.requires_cuda_variant)} build of torch")
    if pin.requires_python and not in_range(f"{python}.0", pin.requires_python):
        needs.append(f"Python {pin.requires_python}")
    if needs:
        return None, (
            f"{pin.package}{pin.spec} (prebuilt) needs {', '.join(needs)}, not torch {torch} on Python {python} "
            f"[{pin.id}]: {pin.fix}"
        )
    index = (pin.index_url or "").format(minor=python.split(".")[1], variant=variant)
    return f"pip install --no-index --no-cache-dir {pin.package}{pin.spec} -f {index}", None


def _check_separate(result: Resolution, own_index: list[Pin]) -> bool:
    """Packages from their own index: listed with their install line, or the conflict recorded (False)."""
    for pin in own_index:
        line, conflict = _separate(pin, result.torch, result.python)
        if conflict:
            result.conflict = conflict
            return False
        result.separate.append((f"{pin.package}{pin.spec}", line or ""))
    return True


def resolve(torch: str, python: str, requested: list[str]) -> Resolution:
    if not re.match(r"^\d+\.\d+(\.\d+)?(\+\w+)?$", torch) or not re.match(r"^3\.\d+$", python):
        raise ResolveError(f"--torch {torch} --python {python}: give e.g. --torch 2.1.0+cu121 --python 3.10.")
    try:
        reqs = [Requirement(r) for r in requested]
    except InvalidRequirement as exc:
        raise ResolveError(f"not a requirement: {exc}") from exc
    names = {normalize(r.name) for r in reqs}
    result = Resolution(torch, python)
    chosen = applicable_pins(torch, names)
    own_index = [p for p in chosen if p.index_url and normalize(p.package) in names]
    if not _check_separate(result, own_index):
        return result
    skip = {normalize(p.package) for p in own_index}
    wanted = [str(r) for r in reqs if normalize(r.name) not in skip]
    wanted += [dep for name in skip for dep in DEPENDENCIES_OF_SEPARATE.get(name, [])]
    constraints = [p for p in chosen if normalize(p.package) not in skip]
    result.pins = [(f"{p.package}{p.spec}", f"{p.when}. Without it: {p.symptom}", p.id) for p in constraints]
    public = torch.split("+")[0]
    compiled = _compile([f"torch=={public}", *wanted], [f"{p.package}{p.spec}" for p in constraints], python)
    if isinstance(compiled, str):
        result.conflict = compiled
    else:
        result.packages = compiled
    return result


def _compile(requirements: list[str], constraints: list[str], python: str) -> dict[str, str] | str:
    """name -> version from `uv pip compile`, or the resolver's explanation of the conflict."""
    uv = uv_binary()
    if uv is None:
        raise ResolveError("uv is not installed beside rigfit: `pip install uv`.")
    with tempfile.TemporaryDirectory(prefix="rigfit-resolve-") as tmp:
        req_file, con_file = Path(tmp) / "in.txt", Path(tmp) / "constraints.txt"
        req_file.write_text("\n".join(requirements) + "\n")
        con_file.write_text("\n".join(constraints) + "\n")
        argv = [uv, "pip", "compile", str(req_file), "-c", str(con_file), "--python-version", python]
        argv += ["--python-platform", "x86_64-manylinux_2_28", "--no-header", "--no-annotate", "--quiet"]
        argv += read_pip_config(sys.executable).uv_args()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        return resolver_cause(proc.stderr + proc.stdout)
    found = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            found[normalize(match.group(1))] = match.group(2)
    return found
