"""`rigfit build-torch`: write (and run) a resumable torch + torchvision source build for a target CPU and GPU,
or `--check` a build on that CPU. Thin: the recipe, the script, the prerequisites and the check live beside it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from rigfit.cli_args import Exit, Option
from rigfit.terminal import console, err, print_json, usage_error

if TYPE_CHECKING:
    from rigfit.kb.torch_source import IsaTarget
    from rigfit.probe.profile import Profile
    from rigfit.probe.source import Source
    from rigfit.recipes.torch_build.recipe import BuildRequest
    from rigfit.recipes.torch_build.request import Options


TextOpt = Optional[str]  # noqa: UP045


def build_torch(
    from_: Annotated[TextOpt, Option("--from", help="Plan the build for a captured machine.")] = None,
    dry_run: Annotated[
        bool, Option("--dry-run", help="Check prerequisites and write the script; run nothing.")
    ] = False,
    for_: Annotated[
        TextOpt, Option("--for", help="Target CPU: westmere, nehalem, core2, sandybridge, haswell... or native.")
    ] = None,
    rocm: Annotated[TextOpt, Option("--rocm", help="Build for ROCm, kernels for this gfx (gfx1030).")] = None,
    cuda: Annotated[TextOpt, Option("--cuda", help="Build for CUDA, kernels for this SM (8.6).")] = None,
    cpu: Annotated[bool, Option("--cpu", help="Build without GPU support.")] = False,
    torch: Annotated[TextOpt, Option("--torch", help="torch release to build (2.13.0, 2.3.1...).")] = None,
    out: Annotated[TextOpt, Option("-o", "--out", help="Build directory (script, log, sources, wheels).")] = None,
    check: Annotated[
        TextOpt, Option("--check", help="Check a build (executable, env dir, wheel or dir) on the --for CPU.")
    ] = None,
    as_json: Annotated[bool, Option("--json", help="Print JSON.")] = False,
) -> None:
    """PyTorch from source where no published wheel runs: one resumable script, checked on the target CPU."""
    from rigfit.probe.gather import probe_machine
    from rigfit.probe.source import CaptureError, open_source
    from rigfit.recipes.torch_build.request import Options, RequestError, target_cpu

    try:
        source = open_source(from_)
    except CaptureError as exc:
        raise usage_error(str(exc)) from exc
    profile = probe_machine(source, torch_check=False)
    if check is not None:
        try:
            target = target_cpu(for_, profile)
        except RequestError as exc:
            raise usage_error(str(exc)) from exc
        raise Exit(_check(Path(check), target, as_json))
    options = Options(target=for_, rocm=rocm, cuda=cuda, cpu=cpu, torch=torch)
    raise Exit(_build(source, profile, options, out, dry_run or from_ is not None, from_ is None, as_json))


def _check(path: Path, target: IsaTarget, as_json: bool) -> int:
    from rigfit.recipes.torch_build.check import check_target
    from rigfit.recipes.torch_build.render import check_json, render_check
    from rigfit.verify.cpu_check import CpuModelError

    if not path.exists():
        raise usage_error(f"--check {path}: no such file or directory (give the wheel, the env dir or the build dir)")
    try:
        outcome = check_target(path, target)
    except CpuModelError as exc:
        raise usage_error(str(exc)) from exc
    if as_json:
        print_json(check_json(outcome))
    else:
        render_check(outcome, console)
    return 0 if outcome.ok else 1


def _build(
    source: Source, profile: Profile, options: Options, out: str | None, dry: bool, live: bool, as_json: bool
) -> int:
    from rigfit.paths import data_dir, write_atomic
    from rigfit.recipes.torch_build.prereqs import check_prereqs
    from rigfit.recipes.torch_build.recipe import make_recipe
    from rigfit.recipes.torch_build.render import recipe_json, render_recipe
    from rigfit.recipes.torch_build.request import RequestError, build_request, machine_size
    from rigfit.recipes.torch_build.script import render_script

    try:
        request = build_request(options, profile)
    except RequestError as exc:
        raise usage_error(str(exc)) from exc
    recipe = make_recipe(request, machine_size(profile))
    work = Path(out).expanduser().resolve() if out else data_dir() / "torch-build" / _build_name(request)
    script = work / "build-torch.sh"
    work.mkdir(parents=True, exist_ok=True)
    write_atomic(script, render_script(recipe, work, _rigfit_command()))
    script.chmod(0o755)
    prereqs = check_prereqs(source, profile, recipe, work, live)
    if as_json:
        print_json(recipe_json(recipe, prereqs, script))
    else:
        render_recipe(recipe, prereqs, script, console)
    missing = [p.name for p in prereqs if p.status == "missing"]
    if dry:
        if not live:
            err.print(f"The script is for the captured machine: copy {script} there and run it with bash.")
        return 1 if missing else 0
    if missing:
        err.print(f"[red]Not started:[/] missing {', '.join(missing)} (fixes above). Then run: bash {script}")
        return 1
    return _run_script(script)


def _build_name(req: BuildRequest) -> str:
    return f"torch-{req.release.torch}-{req.target.id}-{req.backend}" + (f"-{req.arch}" if req.arch else "")


def _rigfit_command() -> str:
    """How the script calls rigfit back (--check): this very installation."""
    here = Path(sys.argv[0])
    return str(here.resolve()) if here.name == "rigfit" and here.exists() else shutil.which("rigfit") or "rigfit"


def _run_script(script: Path) -> int:
    """Run the build in its own process group; Ctrl-C stops it (and only it); running again resumes."""
    err.print(f"Starting {script} (Ctrl-C stops it; run the same command again to resume).")
    proc = subprocess.Popen(["bash", str(script)], start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        err.print("Stopped. Run the same command again to resume from the last finished step.")
        return 130


__all__ = ["build_torch"]
