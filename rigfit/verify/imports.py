"""Import each important package of the target environment in its own process, on this CPU or an emulated one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rigfit.proc.worker import WORKERS_DIR, WorkerResult, run_worker
from rigfit.records import field, record
from rigfit.verify.cpu_check import TargetCpu, openblas_overreach
from rigfit.verify.diagnose import Problem, import_problem
from rigfit.verify.envscan import TargetEnv, important_modules, torch_build, torch_variant

NATIVE_TIMEOUT = 120.0
EMULATED_TIMEOUT = 600.0  # qemu runs torch's import ~5x slower


@record
class ImportOutcome:
    dist: str
    module: str
    version: str | None
    status: str  # the worker's end: ok, sigill, segfault, timeout...
    problem: Problem | None
    note: str | None = None  # something true but not a failure (e.g. an OpenBLAS workaround that was needed)
    needs_env: dict[str, str] = field(default_factory=dict)  # variables it only works with (OPENBLAS_CORETYPE)
    seconds: float = 0.0
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_imports(env: TargetEnv, cpu: TargetCpu, parallel: int = 2) -> list[ImportOutcome]:
    build = torch_build(env)
    variant = torch_variant(build)
    pairs = important_modules(env.distributions)
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(lambda pair: check_one(env, cpu, pair[0], pair[1], variant), pairs))


def check_one(env: TargetEnv, cpu: TargetCpu, dist: str, module: str, variant: str | None) -> ImportOutcome:
    extra = {"OPENBLAS_VERBOSE": "2"} if cpu.emulated else {}
    result = _run(env, cpu, module, extra)
    note, needs_env = None, {}
    core = openblas_overreach(result.output_tail, cpu.flags) if result.status == "sigill" else None
    if core and cpu.emulated is not None and cpu.emulated.openblas_core:
        # numpy's bundled OpenBLAS picked kernels (e.g. Haswell = AVX2) this CPU lacks; retry with the right ones
        forced = cpu.emulated.openblas_core
        retry = _run(env, cpu, module, {**extra, "OPENBLAS_CORETYPE": forced})
        if retry.status != "sigill":
            note = (
                f"OpenBLAS (inside numpy) chose its {core} kernels, which need instructions {cpu.label} lacks, and "
                f"died; it works with OPENBLAS_CORETYPE={forced}. Add `export OPENBLAS_CORETYPE={forced}` to the "
                "UI's start script on that machine."
            )
            result, needs_env = retry, {"OPENBLAS_CORETYPE": forced}
    problem = import_problem(
        dist, module, result.status, result.data, result.output_tail, cpu, env.distributions, variant
    )
    return ImportOutcome(
        dist=dist,
        module=module,
        version=env.distributions.get(dist),
        status=result.status,
        problem=problem,
        note=note,
        needs_env=needs_env,
        seconds=result.seconds,
        output_tail=result.output_tail,
    )


def _run(env: TargetEnv, cpu: TargetCpu, module: str, extra: dict[str, str]) -> WorkerResult:
    return run_worker(
        env.python,
        WORKERS_DIR / "import_check.py",
        [module],
        timeout=EMULATED_TIMEOUT if cpu.emulated else NATIVE_TIMEOUT,
        env=extra,
        prefix=cpu.prefix(),
    )


def needed_env(outcomes: list[ImportOutcome]) -> dict[str, str]:
    """Variables some import only worked with: later checks in the same environment need them too."""
    merged: dict[str, str] = {}
    for outcome in outcomes:
        merged.update(outcome.needs_env)
    return merged
