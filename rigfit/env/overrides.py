"""What a step may install: the UI's requirements with their origins, the pins rigfit overrides, the constraints that
hold the protected packages in place, and the refusal that names the requirement asking to replace one of them."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from rigfit.env.protect import normalize, requires_of
from rigfit.env.record import OverriddenPin, ProtectedPackage
from rigfit.kb.installs import PinOverride
from rigfit.records import record


@record(frozen=True)
class ReqLine:
    """One requirement as written, with where it was written ("requirements_versions.txt:1" or "command line")."""

    text: str
    origin: str
    requirement: Requirement | None  # None for option lines (--extra-index-url ...) and unparsable ones

    @property
    def name(self) -> str | None:
        return normalize(self.requirement.name) if self.requirement else None


class ConflictError(Exception):
    """A step would replace a protected package; the message names each requirement that asks for it."""


def _strip(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def parse_line(text: str, origin: str) -> ReqLine:
    try:
        return ReqLine(text, origin, None if text.startswith("-") else Requirement(text))
    except InvalidRequirement:
        return ReqLine(text, origin, None)


def read_requirements(path: Path, base: Path | None = None, seen: frozenset[Path] = frozenset()) -> list[ReqLine]:
    """The requirement lines of a file (and of files it includes with -r), each with file:line."""
    label_base = base or path.parent
    lines: list[ReqLine] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        text = _strip(raw)
        if not text:
            continue
        origin = f"{_label(path, label_base)}:{number}"
        include = re.match(r"^(?:-r|--requirement)[\s=]+(\S+)$", text)
        if include:
            child = (path.parent / include.group(1)).resolve()
            if child not in seen and child.is_file():
                lines += read_requirements(child, label_base, seen | {path.resolve()})
            continue
        lines.append(parse_line(text, origin))
    return lines


def _label(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def apply_overrides(lines: list[ReqLine], overrides: list[PinOverride]) -> tuple[list[str], list[OverriddenPin]]:
    """The lines to install (overridden pins replaced) and the record of each replacement with its reason."""
    out: list[str] = []
    done: list[OverriddenPin] = []
    for line in lines:
        req = line.requirement
        match = next(
            (o for o in overrides if req and line.name == normalize(o.package) and str(req.specifier) == o.pinned),
            None,
        )
        if match is None or req is None:
            out.append(line.text)
            continue
        installed = f"{req.name}{match.install}"
        out.append(installed)
        done.append(OverriddenPin(requirement=line.text, origin=line.origin, installed=installed, reason=match.reason))
    return out, done


def direct_conflicts(lines: list[ReqLine], protected: list[ProtectedPackage], env_dir: Path) -> list[str]:
    """Requirements that cannot be installed beside the protected packages, each named with file:line."""
    found: list[str] = []
    for line in lines:
        req = line.requirement
        if req is None:
            continue
        for package in protected:
            if line.name == package.name and not _satisfies(req, package):
                found.append(
                    f"{line.origin} {line.text} asks for another {package.name} than the protected "
                    f"{package.name} {package.version}"
                )
            for need in _needs(env_dir, package, line.name):
                pinned = _pinned_version(req)
                if pinned and need.specifier and not need.specifier.contains(pinned, prereleases=True):
                    found.append(
                        f"{line.origin} {line.text} conflicts with {package.name} {package.version} "
                        f"(needs {need.name}{need.specifier})"
                    )
    return found


def _satisfies(req: Requirement, package: ProtectedPackage) -> bool:
    if req.url:
        return bool(package.wheel) and Path(package.wheel or "").name in req.url
    return req.specifier.contains(package.version, prereleases=True) or req.specifier.contains(
        package.version.split("+")[0], prereleases=True
    )


def _pinned_version(req: Requirement) -> str | None:
    pins = [s.version for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
    return pins[0] if len(pins) == 1 else None


def _needs(env_dir: Path, package: ProtectedPackage, name: str | None) -> list[Requirement]:
    """What the protected package itself requires of `name` (markers for this env's platform are not evaluated:
    rigfit reads only unconditional and Linux requirements)."""
    needs = []
    for text in requires_of(env_dir, package.name):
        try:
            dep = Requirement(text)
        except InvalidRequirement:
            continue
        if normalize(dep.name) == name and (dep.marker is None or "extra" not in str(dep.marker)):
            needs.append(dep)
    return needs


def protected_changes(changes: list, protected: list[ProtectedPackage]) -> list[str]:
    """The installer's planned changes that touch a protected package, in words."""
    names = {p.name: p for p in protected}
    found = []
    for change in changes:
        package = names.get(normalize(change.name))
        if package is None:
            continue
        if change.new is None:
            found.append(f"it would remove {package.name} {package.version}")
        else:
            found.append(f"it would replace {package.name} {package.version} with {change.new}")
    return found


def resolver_cause(output: str) -> str:
    """The installer's own explanation of a failed resolution (uv's `cause:` block, pip's ResolutionImpossible)."""
    from rigfit.env.installer import installer_hint

    hint = installer_hint(output)
    if hint:
        return hint
    text = output.strip().splitlines()
    for index, line in enumerate(text):
        if "cause:" in line or "ResolutionImpossible" in line or "conflict is caused by" in line:
            return " ".join(part.strip() for part in text[index : index + 6]).replace("cause: ", "")
    errors = [line for line in text if line.lower().startswith(("error", "  ×", "×"))]
    return " ".join(errors[-3:] or text[-3:])


def companion_pins(lines: list[ReqLine], protected: list[ProtectedPackage]) -> list[tuple[ReqLine, str]]:
    """torchaudio asked for without a version, beside a protected torch it is not: the release made for that torch.

    Since torch 2.1 each torchaudio release carries its torch's version and its compiled libraries are built against
    that torch, while its metadata asks only `torch>=2.x`: a resolver left alone takes the newest torchaudio on the
    index (torchaudio 2.11.1 beside torch 2.14.1 here), which then fails to load its libraries."""
    torch = next((p for p in protected if p.name == "torch"), None)
    held = {p.name for p in protected}
    if torch is None or "torchaudio" in held:
        return []
    public = torch.version.split("+")[0]
    major_minor = tuple(int(part) for part in public.split(".")[:2] if part.isdigit())
    if major_minor < (2, 1):
        return []
    return [
        (line, f"torchaudio=={public}")
        for line in lines
        if line.name == "torchaudio" and line.requirement is not None and not line.requirement.specifier
    ]
