"""`rigfit install`: an isolated env holding the plan's (or the user's) torch under protection, the UI's code with
the repositories its launcher clones, and its requirements, so that the launcher later finds nothing to do.

Resumable: the record is written (complete=False) as soon as the venv exists and after each step; a rerun skips what
is done (venv, torch still byte-identical, UI already at its ref) and continues.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from rigfit.env.disk import DiskNeed, check_disk, install_need
from rigfit.env.guard import guarded_step, progress
from rigfit.env.installer import Installer, InstallerKind, Step, choose_installer
from rigfit.env.overrides import ReqLine, apply_overrides, parse_line, read_requirements
from rigfit.env.protect import DEFAULT_PROTECTED, protect, verify
from rigfit.env.record import EnvRecord, ProtectedPackage, load_record, now, record_path, register_env, save_record
from rigfit.env.ui_source import SourceError, fetch, resolve_source
from rigfit.env.venv import create_venv, env_python, find_python, inspect, require_venv
from rigfit.env.wheels import Wheel, check_fits, parse_wheel
from rigfit.kb.installs import UiInstall, ui_installs
from rigfit.paths import write_atomic
from rigfit.records import field, record
from rigfit.terminal import escape

Say = Callable[[str], None]


class InstallError(Exception):
    """The install cannot go on; the message names the cause and the fix. The env stays marked incomplete."""


@record
class InstallOptions:
    ui: str
    env_dir: Path
    source: str | None = None
    ref: str | None = None
    mirror: Path | None = None
    torch_wheels: list[str] = field(default_factory=list)
    python: str | None = None
    dry_run: bool = False
    installer: InstallerKind | None = None
    protect: list[str] = field(default_factory=list)
    locked: Path | None = None  # a rigfit-lock.json to rebuild from: same UI commit, wheels and versions
    locked_versions: list[str] = field(default_factory=list)  # filled from the lock: every package, "name==version"
    locked_ref: str | None = None  # filled from the lock: the UI commit the source must be at
    locked_torch_source: str | None = None  # filled from the lock: where its torch came from


@record
class PlanPart:
    """What install takes from `rigfit plan`: the launch flags and variables, the pins (with reasons), torch."""

    launch_args: list[str]
    launch_env: dict[str, str]
    pins: list[tuple[str, str]]  # (requirement, reason)
    torch_requirements: list[str]
    torch_index: str | None
    torchaudio: str | None = None  # the plan's torchaudio for its torch (same index), installed when the UI asks
    torch_variant: str | None = None  # the plan's wheel variant ("cu126", "rocm7.2", "cpu"): its size on disk


def with_torchaudio(plan: PlanPart, lines: list[ReqLine]) -> list[str]:
    """The plan's torch requirements, plus its torchaudio when the UI's requirements name torchaudio: from the same
    index as torch, so it is the release made for it, and protected with it."""
    if plan.torchaudio and plan.torch_requirements and any(ln.name == "torchaudio" for ln in lines):
        return [*plan.torch_requirements, f"torchaudio=={plan.torchaudio}"]
    return plan.torch_requirements


def ui_spec(ui: str) -> UiInstall:
    specs = ui_installs()
    if ui not in specs:
        raise InstallError(f"rigfit cannot install '{ui}' yet. It installs: {', '.join(specs)}.")
    return specs[ui]


def plan_part(spec: UiInstall, torch_version: str | None) -> PlanPart:
    """The plan for this machine and UI (probed now), reduced to what install needs."""
    from rigfit.plan.fit import choose_pins
    from rigfit.plan.knowledge import ui_entry
    from rigfit.plan.model import PlanOptions
    from rigfit.plan.planner import make_plan
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import open_source

    profile = probe_machine(open_source(None), torch_check=False)
    options = PlanOptions(ui=spec.id)  # type: ignore[arg-type]
    plan = make_plan(profile, options)
    _, pins_decision = choose_pins(torch_version or plan.torch.version, options, profile)
    pins = []
    for reason in pins_decision.reasons if pins_decision else []:
        req, _, why = reason.text.partition(": ")
        pins.append((req, why))
    no_install = ui_entry(spec.id).flags.get("install.skip", [])  # first: the launcher installs nothing
    args = no_install + [f for f in plan.ui_flags if f not in no_install]
    torch = plan.torch
    reqs = [f"torch=={torch.version}"] if torch.version else []
    reqs += [f"torchvision=={torch.torchvision}" if torch.torchvision else "torchvision"] if torch.version else []
    return PlanPart(
        args,
        {**spec.launch_env, **_config_env(spec.id, plan.ui_config), **plan.env},
        pins,
        reqs,
        torch.index_url,
        torch.torchaudio,
        torch.variant,
    )


def _config_env(ui: str, config: dict[str, str]) -> dict[str, str]:
    """The plan's settings-file keys (InvokeAI: device, precision...) as the variables the UI reads them from."""
    from rigfit.plan.knowledge import ui_entry

    prefix = ui_entry(ui).container.config_env_prefix
    return {f"{prefix}{key.upper()}": value for key, value in config.items()} if prefix else {}


def install(opts: InstallOptions, say: Say) -> EnvRecord:
    spec = ui_spec(opts.ui)
    if opts.locked is not None:
        from rigfit.env.lock import apply_lock

        apply_lock(opts, opts.locked, say)
    python = find_python(opts.python)
    interp, has_venv = inspect(python)
    _check_python(spec, opts, interp.version)
    wheels = [parse_wheel(w) for w in opts.torch_wheels]
    for wheel in wheels:
        check_fits(wheel, interp)
    env_dir = opts.env_dir.expanduser().resolve()
    if not env_python(env_dir).exists():
        require_venv(interp, has_venv)  # before anything is written or probed
    previous = _previous(env_dir, opts.ui)
    plan = plan_part(spec, next((w.version for w in wheels if w.name == "torch"), None))
    if opts.dry_run:
        return _dry_run(opts, spec, env_dir, wheels, plan, interp.version, say)
    check_disk(env_dir, _disk_need(opts.ui, previous, wheels, plan, env_dir), f"installing {opts.ui}", say)

    say(f"[bold]1/5 env[/] {env_dir} (Python {interp.version})")
    created = create_venv(env_dir, python)
    record = previous or EnvRecord(
        ui=opts.ui, env_dir=str(env_dir), ui_dir=str(env_dir / "ui"), python=str(env_python(env_dir)), created_at=now()
    )
    record.complete = False
    root = [spec.root_flag, record.ui_dir] if spec.root_flag else []
    record.launch_args, record.launch_env = root + plan.launch_args, plan.launch_env
    save_record(record)
    register_env(env_dir)
    say(f"  Python {created.version} at {record.python}; record {record_path(env_dir)} (marked incomplete)")
    installer = choose_installer(record.python, opts.installer)
    pins = [req for req, _ in plan.pins]

    say("[bold]2/5 UI source[/]")
    if spec.kind == "package":
        _package_root(record, spec, opts, say)
    else:
        _get_ui(record, spec, opts, say)
    save_record(record)

    say("[bold]3/5 torch[/]")
    plan.torch_requirements = with_torchaudio(plan, requirement_lines(spec, Path(record.ui_dir)))
    _install_torch(record, installer, wheels, plan, pins + opts.locked_versions, opts, say)
    save_record(record)

    say("[bold]4/5 UI requirements[/]")
    _install_requirements(record, spec, installer, plan, opts.locked_versions, say)
    save_record(record)

    say("[bold]5/5 lock[/]")
    from rigfit.env.lock import write_lock

    lock = write_lock(record, spec, installer.kind, [f"{req}  # {why}" for req, why in plan.pins])
    say(f"  {lock}")
    record.complete = True
    save_record(record)
    from rigfit.env.patching import reapply_patches

    for status in reapply_patches(env_dir):
        say(f"  patch {status.entry.id} applied again (the install replaced its file)")
    return record


def _check_python(spec: UiInstall, opts: InstallOptions, version: str) -> None:
    """A package release states the Pythons it installs on: a clear refusal before anything is written."""
    from rigfit.plan.knowledge import in_range

    if spec.python and in_range(version, spec.python) is False and (opts.ref or spec.ref) == spec.ref:
        short = ".".join(version.split(".")[:2])
        raise InstallError(
            f"{spec.package or spec.id} {spec.ref} installs on Python {spec.python}, "
            f"and {opts.python or 'python3'} is {version}: "
            f"give another interpreter with --python (e.g. --python python3.11; on Debian/Ubuntu "
            f"`sudo apt install python3.11-venv`), not python{short}."
        )


def _previous(env_dir: Path, ui: str) -> EnvRecord | None:
    if not record_path(env_dir).is_file():
        if env_dir.exists() and any(env_dir.iterdir()) and not env_python(env_dir).exists():
            raise InstallError(
                f"{env_dir} exists and is not an env (no bin/python, no record): give an empty or new folder to --env."
            )
        return None
    record = load_record(env_dir)
    if record.ui != ui:
        raise InstallError(f"{env_dir} holds {record.ui}, not {ui}: install {ui} into another --env.")
    return record


def _install_torch(
    record: EnvRecord,
    installer: Installer,
    wheels: list[Wheel],
    plan: PlanPart,
    pins: list[str],
    opts: InstallOptions,
    say: Say,
) -> None:
    env_dir = Path(record.env_dir)
    names = list(dict.fromkeys([*DEFAULT_PROTECTED, *opts.protect]))
    wheel_paths = {w.name: str(w.path) for w in wheels}
    if record.protected and not verify(env_dir, record.protected) and _same_wheels(record, wheel_paths):
        say(f"  kept: {', '.join(f'{p.name} {p.version}' for p in record.protected)} (byte-identical)")
        return
    step = _torch_step(record, wheels, plan, pins, say)
    _check_locked_torch(record, opts)
    if step is not None:
        outcome = installer.run(step, dry_run=False, on_line=progress(say))
        if not outcome.ok:
            raise InstallError(f"installing torch failed: {_last_error(outcome.output)}")
        _copy_protected(installer, env_dir, names, wheel_paths, say)
    record.protected = protect(env_dir, names, wheel_paths)
    if not any(p.name == "torch" for p in record.protected):
        raise InstallError(f"no torch in {env_dir} after the torch step: give its wheel with --torch-wheel.")
    files = sum(len(p.files) for p in record.protected)
    held = ", ".join(f"{p.name} {p.version}" for p in record.protected)
    say(f"  protected (hashes of {files} files recorded): {held}")


def _copy_protected(installer: Installer, env_dir: Path, names: list[str], wheels: dict[str, str], say: Say) -> None:
    """uv hard-links installed files to its cache: an in-place edit of one would corrupt the cache, and the rollback
    that reinstalls from it. The protected packages alone are reinstalled as copies (their dependencies stay linked)."""
    if installer.kind != "uv":
        return  # pip always copies
    from rigfit.env.protect import installed_versions

    have = installed_versions(env_dir)
    present = [n for n in names if n in have]
    reqs = [wheels.get(n) or f"{n}=={have[n]}" for n in present]
    outcome = installer.run(Step(requirements=reqs, no_deps=True, reinstall=present, link_copy=True), dry_run=False)
    if not outcome.ok:
        raise InstallError(f"copying {', '.join(present)} into the env failed: {_last_error(outcome.output)}")
    say(f"  {', '.join(present)}: files copied, not linked to uv's cache")


def _torch_step(record: EnvRecord, wheels: list[Wheel], plan: PlanPart, pins: list[str], say: Say) -> Step | None:
    """The user's wheels, else the torch already in the env (adopted: no step), else the plan's wheel line."""
    if wheels:
        record.torch_source = "wheel " + " ".join(str(w.path) for w in wheels)
        say(f"  from your wheels: {', '.join(w.path.name for w in wheels)}")
        # reinstalled even when present: an install killed mid-way can leave a torch whose files are half written
        return Step(requirements=[str(w.path) for w in wheels], constraints=pins, reinstall=[w.name for w in wheels])
    if _has_torch(Path(record.env_dir)):
        record.torch_source = "adopted"
        say("  adopting the torch already in the env")
        return None
    if not plan.torch_requirements:
        raise InstallError(
            "the plan has no prebuilt torch for this machine (it needs a source build): build the wheels as "
            "`rigfit plan` shows, then `rigfit install UI --torch-wheel torch.whl --torch-wheel torchvision.whl`."
        )
    record.torch_source = f"index {plan.torch_index}" if plan.torch_index else "index"
    say(f"  the plan's torch: {' '.join(plan.torch_requirements)} from {plan.torch_index or 'the default index'}")
    extra = [plan.torch_index] if plan.torch_index else []
    return Step(requirements=plan.torch_requirements, constraints=pins, extra_index_urls=extra)


def _check_locked_torch(record: EnvRecord, opts: InstallOptions) -> None:
    """A lock whose torch came from an index (or the env) needs the same source now; wheels were checked by sha256."""
    locked = opts.locked_torch_source
    if locked is None or locked.startswith("wheel") or record.torch_source == locked:
        return
    raise InstallError(
        f"the lock's torch came from {locked}, this install's from {record.torch_source}: give the locked torch "
        "with --torch-wheel, or install without --locked to build a new env."
    )


def _disk_need(ui: str, previous: EnvRecord | None, wheels: list[Wheel], plan: PlanPart, env_dir: Path) -> DiskNeed:
    """What this run writes: the user's wheels unless the env holds them already, else the plan's torch."""
    kept = (
        previous is not None
        and bool(previous.protected)
        and _same_wheels(previous, {w.name: str(w.path) for w in wheels})
    )
    has_torch = kept or (not wheels and env_python(env_dir).exists() and _has_torch(env_dir))
    return install_need(ui, [] if kept else wheels, plan.torch_variant, torch_installed=has_torch)


def _same_wheels(record: EnvRecord, wheel_paths: dict[str, str]) -> bool:
    return all(any(p.name == n and p.wheel == w for p in record.protected) for n, w in wheel_paths.items())


def _has_torch(env_dir: Path) -> bool:
    from rigfit.env.protect import installed_versions

    return "torch" in installed_versions(env_dir)


def _get_ui(record: EnvRecord, spec: UiInstall, opts: InstallOptions, say: Say) -> None:
    ui_dir = Path(record.ui_dir)
    ref = opts.ref or spec.ref
    if ui_dir.is_dir() and record.ui_ref is not None and (ref is None or record.ui_ref.startswith(ref)):
        say(f"  kept: {ui_dir} at {record.ui_ref}")
    else:
        _fetch_ui(record, spec, opts, ref, say)
    for repo in spec.repositories:
        dest = ui_dir / repo.dest
        if dest.is_dir():
            say(f"  kept: {repo.dest}")
            continue
        try:
            where = resolve_source(repo.name, repo.url, None, opts.mirror)
            fetch(where, dest, repo.commit, lambda m: say(f"  {m}"))
        except SourceError as exc:
            raise InstallError(f"{repo.name} (cloned by {spec.id}'s launcher): {exc}") from exc
        say(f"  {repo.dest} at {repo.commit[:12]}")


def _package_root(record: EnvRecord, spec: UiInstall, opts: InstallOptions, say: Say) -> None:
    """A package UI has no checkout: its release comes from the index in step 4; DIR/ui is its data root."""
    ui_dir = Path(record.ui_dir)
    ui_dir.mkdir(parents=True, exist_ok=True)
    record.ui_ref = opts.ref or spec.ref
    if opts.source or opts.mirror:
        say(f"  [yellow]note:[/] {spec.id} is installed from the package index: --source/--mirror are not used")
    say(f"  {spec.package}=={record.ui_ref} from the package index (step 4); its data root: {ui_dir}")


def _fetch_ui(record: EnvRecord, spec: UiInstall, opts: InstallOptions, ref: str | None, say: Say) -> None:
    ui_dir = Path(record.ui_dir)
    if ui_dir.exists():
        shutil.rmtree(ui_dir)
    try:
        where = resolve_source(spec.repo_name, spec.repo, opts.source, opts.mirror)
        commit = fetch(where, ui_dir, ref, lambda m: say(f"  {m}"), opts.mirror)
    except SourceError as exc:
        raise InstallError(str(exc)) from exc
    if opts.locked_ref is not None and commit != opts.locked_ref:
        shutil.rmtree(ui_dir, ignore_errors=True)
        raise InstallError(
            f"the UI source is at {commit or 'an unknown commit (a plain folder)'}, not the commit the lock "
            f"holds ({opts.locked_ref}): give a git URL or `git archive` .tar.gz of that commit to --source."
        )
    record.ui_ref = commit or ref or "unknown"
    if ref and commit and not commit.startswith(ref) and not opts.ref:
        say(f"  [yellow]note:[/] the source is at {commit}, not the known-good {ref}")
    say(f"  {spec.id} at {record.ui_ref} in {ui_dir}")


def requirement_lines(spec: UiInstall, ui_dir: Path, ref: str | None = None) -> list[ReqLine]:
    """The UI's requirements with their origins: its requirements files, or (kind package) its pinned release."""
    if spec.kind == "package":
        return [parse_line(f"{spec.package}=={ref or spec.ref}", f"ui_installs.yaml ({spec.id})")]
    lines: list[ReqLine] = []
    for name in spec.requirements:
        path = ui_dir / name
        if not path.is_file():
            raise InstallError(
                f"{path} is missing: the UI source is not {spec.id} (or another version): check --source."
            )
        lines += read_requirements(path, ui_dir)
    return lines


def _install_requirements(
    record: EnvRecord, spec: UiInstall, installer: Installer, plan: PlanPart, locked: list[str], say: Say
) -> None:
    ui_dir = Path(record.ui_dir)
    lines = requirement_lines(spec, ui_dir, record.ui_ref)
    texts, overridden = apply_overrides(lines, list(spec.overrides))
    record.overridden = overridden
    record.pins = [req for req, _ in plan.pins]
    for pin in overridden:
        say(f"  [yellow]override[/] {pin.origin} {pin.requirement} -> {pin.installed}: {pin.reason}")
    for addition in spec.additions:
        say(f"  [cyan]add[/] {addition.requirement}: {addition.reason}")
    for req, why in plan.pins:
        say(f"  [cyan]pin[/] {req}: {why}")
    for note in spec.notes:
        say(f"  [cyan]note[/] {escape(note.requirement)}: {escape(note.reason)}")
    derived = Path(record.env_dir) / "rigfit-requirements.txt"
    with_deps = [a for a in spec.additions if not a.no_deps]
    body = [f"{t}\n" for t in texts] + [f"{a.requirement}\n" for a in with_deps]
    origin = ", ".join(spec.requirements) or f"ui_installs.yaml ({spec.id})"
    write_atomic(derived, f"# written by rigfit install from {origin}\n" + "".join(body))
    checked = [ln for ln in lines if ln.text in texts] + [
        parse_line(a.requirement, "ui_installs.yaml") for a in with_deps
    ]
    if locked:
        say(f"  locked: {len(locked)} exact versions from the lock file, each installed (not only allowed)")
    step = Step(files=[derived], requirements=locked, constraints=[req for req, _ in plan.pins] + locked)
    guarded = guarded_step(record, installer, step, checked, lambda m: say(f"  {m}"))
    if guarded.rolled_back:
        say(f"  rolled back: {', '.join(guarded.rolled_back)}")
    _install_without_deps(record, spec, installer, say)
    if spec.package:
        for line in package_torch_requirements(Path(record.env_dir), spec.package, record.protected):
            say(f"  {escape(line)}")


def _install_without_deps(record: EnvRecord, spec: UiInstall, installer: Installer, say: Say) -> None:
    """The additions the UI's launcher installs without their dependencies (SD.Next: gradio==3.43.2), guarded too."""
    bare = [parse_line(a.requirement, f"ui_installs.yaml ({spec.id})") for a in spec.additions if a.no_deps]
    if not bare:
        return
    say(f"  without dependencies, as {spec.id}'s launcher does: {', '.join(ln.text for ln in bare)}")
    step = Step(requirements=[ln.text for ln in bare], no_deps=True)
    guarded = guarded_step(record, installer, step, bare, lambda m: say(f"  {m}"))
    if guarded.rolled_back:
        say(f"  rolled back: {', '.join(guarded.rolled_back)}")


def package_torch_requirements(env_dir: Path, package: str, protected: list[ProtectedPackage]) -> list[str]:
    """What the installed package's own metadata asks of each protected package, and what rigfit did with it: kept
    (the protected version satisfies it), not for this platform, a conflict, or not installed (an extra's pins)."""
    from packaging.requirements import InvalidRequirement, Requirement

    from rigfit.env.protect import normalize, requires_of

    held = {p.name: p for p in protected}
    found: list[str] = []
    extras: dict[str, list[str]] = {}
    for text in requires_of(env_dir, package):
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        mine = held.get(normalize(req.name))
        if mine is None:
            continue
        extra = re.search(r'extra == "([^"]+)"', str(req.marker or ""))
        if extra:
            pins = extras.setdefault(extra.group(1), [])
            pins += [] if f"{req.name}{req.specifier}" in pins else [f"{req.name}{req.specifier}"]
        elif req.marker is None or req.marker.evaluate():
            ok = req.specifier.contains(mine.version.split("+")[0], prereleases=True)
            verdict = "kept: the protected" if ok else "CONFLICT with the protected"
            found.append(f"{package} requires {req.name}{req.specifier or ''}: {verdict} {mine.name} {mine.version}")
    for name, pins in extras.items():
        found.append(
            f"{package}[{name}] pins {', '.join(pins)}: not installed (rigfit installs {package} without extras)"
        )
    return found


def _dry_run(
    opts: InstallOptions, spec: UiInstall, env_dir: Path, wheels: list[Wheel], plan: PlanPart, version: str, say: Say
) -> EnvRecord:
    say(f"[bold]dry run[/]: nothing is written. {spec.id} into {env_dir} with Python {version}")
    torch = ", ".join(w.path.name for w in wheels) or " ".join(plan.torch_requirements) or "the env's own torch"
    say(f"  torch: {torch} (protected by hash afterwards)")
    if spec.kind == "package":
        release = f"{spec.package}=={opts.ref or spec.ref}"
        say(f"  UI: {release} from the package index (no extras); data root {env_dir / 'ui'}")
    else:
        where = opts.source or (f"{opts.mirror}/{spec.repo_name}.tar.gz" if opts.mirror else spec.repo)
        say(f"  UI: {where} at {opts.ref or spec.ref or 'its default branch'}")
    for repo in spec.repositories:
        say(f"  + {repo.dest} at {repo.commit[:12]} (its launcher's pin)")
    for o in spec.overrides:
        say(f"  override {o.package}{o.pinned} -> {o.package}{o.install}: {o.reason}")
    for addition in spec.additions:
        bare = " (without its dependencies)" if addition.no_deps else ""
        say(f"  add {addition.requirement}{bare}: {addition.reason}")
    for req, why in plan.pins:
        say(f"  pin {req}: {why}")
    for note in spec.notes:
        say(f"  note {escape(note.requirement)}: {escape(note.reason)}")
    say(f"  launch flags: {' '.join(plan.launch_args)}")
    return EnvRecord(
        ui=opts.ui,
        env_dir=str(env_dir),
        ui_dir=str(env_dir / "ui"),
        python="",
        launch_args=plan.launch_args,
        launch_env=plan.launch_env,
    )


def _last_error(output: str) -> str:
    from rigfit.env.installer import installer_hint

    hint = installer_hint(output)
    if hint:
        return hint
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "cause" in ln.lower()]
    return " ".join((errors or lines)[-3:])
