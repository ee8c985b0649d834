"""Schemas of the planner's knowledge-base files (rocm, torch_wheels, pins, uis, models, precision).

Each YAML file under rigfit/kb/ holds `entries:` validated against one of these models at load (see loader.py);
registry.py maps file names to models so a single test can validate every KB file.
"""

from __future__ import annotations

from typing import Literal

from rigfit.kb.loader import KbEntry, load_entries, version_ranges
from rigfit.kb.typed import FieldError
from rigfit.records import field, record

Reliability = Literal["good", "unreliable", "broken"]
Generation = Literal["gcn1", "gcn2", "gcn3", "gcn4", "gcn5", "rdna1", "rdna2", "rdna3", "rdna3.5", "rdna4", "cdna"]


@record(frozen=True, kw_only=True)
class GfxTarget(KbEntry):
    """rocm.yaml: one AMD GPU ISA (gfx target) and how ROCm and PyTorch's ROCm wheels treat it. id = "gfx1032"."""

    family: str
    generation: Generation
    # ISA the official wheels ship kernels for that this card can borrow through HSA_OVERRIDE_GFX_VERSION
    override: str | None = None  # "10.3.0"
    override_reliability: Reliability | None = None
    override_note: str | None = None
    pcie_atomics_required: bool = False  # GFX8: KFD skips the card without PCIe atomics end to end
    env: dict[str, str] = field(default_factory=dict)  # variables ROCm needs for this ISA at all (ROC_ENABLE_PRE_VEGA)
    fp16: Literal["good", "issues"] = "good"
    bf16: bool = False  # native bf16 math worth using
    # the last known-working official torch+ROCm line when the newest wheels do not work (RDNA1, gfx803)
    known_good_torch: str | None = None  # "1.13.1"
    known_good_variant: str | None = None  # "rocm5.2"
    # the last ROCm release line whose libraries still ship kernels for this ISA (AMD dropped it after that)
    rocm_supported_until: str | None = None  # "5.7"
    note: str | None = None


@record(frozen=True, kw_only=True)
class WheelLine(KbEntry):
    """torch_wheels.yaml: one way to get torch (an official wheel variant, a source build, a distro package)."""

    kind: Literal["cuda", "rocm", "xpu", "cpu", "source", "distro", "community"]
    torch: str | None = None  # "2.13.0"; None for routes that are not one version (source builds)
    variant: str | None = None  # "cu126", "rocm7.2", "cpu"
    backend: Literal["cuda", "rocm", "cpu"] | None = None  # for kind=source: the torch build it makes
    index_url: str | None = None
    python: str | None = None  # version range of CPython the line has wheels for, ">=3.10,<3.15"
    torchvision: str | None = None
    torchaudio: str | None = None
    cuda: str | None = None  # CUDA runtime the variant was built with, "12.6"
    cuda_archs: list[str] = field(default_factory=list)  # compute capabilities with cubins; "12.0+PTX" for PTX
    min_driver: str | None = None  # lowest Linux driver that runs it (CUDA minor-version compatibility floor)
    rocm_archs: list[str] = field(default_factory=list)  # gfx targets with kernels in the wheel
    needs_avx: bool = False  # the wheel (or a library it bundles) executes AVX: SIGILL on a CPU without it
    cpu_floor: str | None = None  # lowest x86 instruction set it is meant for, in words
    distro: str | None = None  # for kind=distro: "debian", "ubuntu"
    package: str | None = None  # for kind=distro: "python3-torch"
    note: str | None = None

    def _check(self) -> None:
        version_ranges(self, "python")


@record(frozen=True, kw_only=True)
class Pin(KbEntry):
    """pins.yaml: a compatibility constraint package metadata does not state, learned from real breakage."""

    package: str  # the package to constrain ("huggingface_hub")
    spec: str  # the range that works ("<0.26")
    when: str  # the condition in words ("code imports cached_download", "torch < 2.4")
    # the condition in machine form, so the planner can apply it
    applies_if_torch: str | None = None  # torch version range that makes this pin necessary
    applies_if_x86_level_below: int | None = None  # CPU x86-64 level under which the pin applies
    applies_with: list[str] = field(default_factory=list)  # plan extras ("pytorch3d") that need this pin
    applies_to_ui: list[str] = field(default_factory=list)  # UIs whose own requirements need this pin
    requires_torch: str | None = None  # for extras: torch range its prebuilt wheels need
    requires_python: str | None = None
    requires_cuda_variant: list[str] = field(default_factory=list)
    index_url: str | None = None  # where its wheels are (pytorch3d's own index)
    build_from_source: str | None = None  # the command that compiles it when no prebuilt wheel fits
    symptom: str  # the error people see without the pin
    fix: str
    note: str | None = None

    def _check(self) -> None:
        version_ranges(self, "spec", "applies_if_torch", "requires_torch", "requires_python")


# the planner's abstract settings a UI translates into its own flags (uis.yaml `flags:` keys)
UI_SETTINGS = (
    "memory.low",
    "memory.medium",
    "memory.medium_sdxl",
    "memory.normal",
    "memory.high",
    "precision.fp32",
    "precision.fp16",
    "precision.bf16",
    "precision.upcast",
    "precision.vae_fp32",
    "attention.sdpa",
    "attention.subquad",
    "attention.split",
    "device.cpu",
    "device.index",
    "net.listen",
    "net.auth",
    "net.auth_file",
    "net.api_auth",
    "net.api",
    "net.port",
    "install.skip",
    "model.no_download",
)


@record(frozen=True, kw_only=True)
class OomFlags:
    """The flag to relaunch a UI with after an out-of-memory error: `low` for cards up to 4 GiB, `medium` above.

    One step further than the plan's own memory flags (Forge: offload after each use; ComfyUI: --novram on 4 GB),
    since the plan's mode already ran out. Read by the plan's advice and by `rigfit explain`'s OOM fixes."""

    low: str
    medium: str


@record(frozen=True, kw_only=True)
class UiContainer:
    """How the UI runs in a container (`rigfit docker`/`k8s`). "{python}", "{env}" and "{port}" are filled in."""

    command: list[str]  # run from the UI checkout
    args: list[str] = field(default_factory=list)  # listen on every interface of the container, port, data dirs
    env: dict[str, str] = field(default_factory=dict)
    # what must outlive the container: models, outputs, state (settings, extensions, user files) -> path inside it
    mounts: dict[Literal["models", "outputs", "state"], str]
    # the UI reads each settings-file key from an environment variable with this prefix (the plan's ui_config)
    config_env_prefix: str | None = None
    auth_note: str | None = None  # what to do instead of a login read from a file, when the UI has no such flag


@record(frozen=True, kw_only=True)
class LogPhase:
    """A log line that says what a starting UI is doing (`rigfit launch` shows it while it waits)."""

    match: str  # regular expression, searched in each new log line
    says: str  # "importing torch", "loading the model"


@record(frozen=True, kw_only=True)
class AuthAccount:
    """A UI whose login is an account in its own database (InvokeAI's multiuser mode), not a flag: the worker script
    (rigfit/workers/) that creates it, or sets its password, before the UI starts."""

    worker: str  # rigfit/workers/<worker>: `python worker ROOT USER`, the password in RIGFIT_ACCOUNT_PASSWORD
    user: str  # the default user name (InvokeAI logs in by email address)
    login: str  # how a script logs in (the API call), for the docs and the launch output


def xpu_ui_names() -> str:
    """The UIs that run on PyTorch's XPU build (uis.yaml `xpu`), for texts: "ComfyUI and InvokeAI"."""
    return " and ".join(u.name for u in load_entries("uis.yaml", UiEntry) if u.xpu)


@record(frozen=True, kw_only=True)
class UiEntry(KbEntry):
    """uis.yaml: a Stable Diffusion UI: where it lives, how to keep its installer off torch, and its flags."""

    name: str
    repo: str
    launch: str  # command that starts it
    port: int  # its default port
    health: str  # HTTP path that answers once the UI is up (readiness checks)
    container: UiContainer
    requirements: list[str] = field(default_factory=list)
    python: str | None = None  # CPython range the UI supports
    keep_torch_flags: list[str] = field(default_factory=list)  # launch flags that stop it reinstalling torch
    keep_torch_env: dict[str, str] = field(default_factory=dict)
    keep_torch_note: str
    # abstract setting -> this UI's flags; "config:key=value" entries are settings-file keys, not flags
    flags: dict[str, list[str]]
    ignores: list[str] = field(default_factory=list)  # other UIs' flags people pass that this UI does not read
    oom_flags: OomFlags | None = None  # None: the UI has no launch flag for it (settings file instead)
    flux_model: str | None = None  # models.yaml id of the 4-bit Flux to download for it (None: it has its own route)
    flux_quantized: str  # how this UI loads a 4-bit Flux on a small card: where the files go, which loader
    # the oldest torch its current release is known to run on (None: no known floor); why, in the UI's own code
    torch_min: str | None = None
    torch_min_why: str | None = None
    # it runs on an Intel GPU through PyTorch's own XPU build (torch.xpu), without Intel's extension (IPEX); a UI
    # that only finds the GPU through IPEX (Forge: backend/memory_management.py) or is not known to keeps the CPU
    xpu: bool = False
    note: str | None = None
    model_dir: str | None = None  # where its checkpoints go, relative to its checkout (or data root)
    auth_account: AuthAccount | None = None  # the login is an account the UI keeps (net.auth turns the mode on)
    model_howto: str | None = None  # how to add a model when a file in model_dir is not enough (a UI's model manager)
    start_phases: list[LogPhase] = field(default_factory=list)  # log lines that tell what it is doing at start
    # regex of the version line its launcher prints at start ("Version: f2.0.1v1.10.1-previous-..." is Forge's):
    # doctor tells which UI a pasted start-up is, to judge its "Launching Web UI with arguments" line
    version_banner: str | None = None
    # the log line (regex) the UI prints once every route is mounted, when its health path answers before that
    # (Forge/A1111 mount /internal/ping, then /sdapi, then run the extensions' callbacks): launch waits for both
    ready_line: str | None = None
    # environment variable whose words the UI adds to its own command line (Forge/A1111 COMMANDLINE_ARGS): how a
    # secret flag (--api-auth USER:PASSWORD) reaches it without showing in `ps` (/proc/PID/environ is owner-only)
    args_env: str | None = None

    def _check(self) -> None:
        unknown = sorted(set(self.flags) - set(UI_SETTINGS))
        if unknown:
            raise FieldError("flags", f"unknown setting(s) {unknown}; known: {', '.join(UI_SETTINGS)}")
        if self.container.auth_note is None and self.auth_file_flag is None:
            raise FieldError("container", "a UI without a net.auth_file flag needs container.auth_note (what instead)")

    @property
    def auth_file_flag(self) -> str | None:
        """The flag that takes a file of user:password lines (the `net.auth_file` setting); None: the UI has none."""
        return next(iter(self.flags.get("net.auth_file", [])), None)


@record(frozen=True, kw_only=True)
class ModelEntry(KbEntry):
    """models.yaml: a checkpoint family and what it needs to run."""

    name: str
    family: Literal["sd15", "sdxl", "flux", "sd3"]
    params_b: float  # billions of parameters of the denoiser
    weights_gb: float  # download size of the usual single-file checkpoint
    vram_gb_min: float  # least VRAM that runs it with the UIs' offloading (slow)
    vram_gb_comfortable: float  # runs without offloading at its native resolution
    ram_gb_min: float  # system RAM needed to load it
    resolution: int
    steps: int  # typical step count
    download: str | None = None  # where people get the weights (the usual file or repository)
    # measured cost at `resolution` (torch.utils.flop_counter): one CFG sampler step (the UNet at batch 2), one VAE
    # decode; what `rigfit bench` divides by the peak matmul rate for this device's physical limit
    cfg_step_flops: float | None = None
    vae_decode_flops: float | None = None
    note: str | None = None


@record(frozen=True, kw_only=True)
class PrecisionRule(KbEntry):
    """precision.yaml: which precision a device class handles, matched on vendor + generation/name/capability."""

    vendor: Literal["nvidia", "amd", "intel", "cpu"]
    match_generation: list[str] = field(default_factory=list)  # gfx generation ("rdna1") for AMD
    match_name: str | None = None  # regular expression on the marketing name ("GTX 16\\d\\d")
    match_cc: str | None = None  # compute capability range (">=8.0") for NVIDIA
    fp16: Literal["good", "nan", "slow", "unsupported"]
    bf16: Literal["good", "slow", "emulated", "unsupported"]
    prefer: Literal["fp16", "bf16", "fp32", "fp16-upcast"]
    note: str

    def _check(self) -> None:
        version_ranges(self, "match_cc")
