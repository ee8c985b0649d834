"""What a target environment holds, read from disk without importing anything: its interpreter, its installed
distributions (from *.dist-info / *.egg-info names), and how its torch was built (torch/version.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from packaging.utils import canonicalize_name

from rigfit.records import field, record

# distribution -> module to import, for the packages whose import failures stop a Stable Diffusion UI
IMPORTANT = {
    "torch": "torch",
    "torchvision": "torchvision",
    "torchaudio": "torchaudio",
    "numpy": "numpy",
    "safetensors": "safetensors",
    "xformers": "xformers",
    "opencv-python": "cv2",
    "opencv-python-headless": "cv2",
    "opencv-contrib-python": "cv2",
    "opencv-contrib-python-headless": "cv2",
    "transformers": "transformers",
    "diffusers": "diffusers",
    "accelerate": "accelerate",
    "open-clip-torch": "open_clip",
    "clip": "clip",
    "kornia": "kornia",
    "scipy": "scipy",
    "pillow": "PIL",
    "gradio": "gradio",
    "bitsandbytes": "bitsandbytes",
    "onnxruntime": "onnxruntime",
    "onnxruntime-gpu": "onnxruntime",
    "insightface": "insightface",
    "facexlib": "facexlib",
    "gfpgan": "gfpgan",
    "basicsr": "basicsr",
    "pytorch-lightning": "pytorch_lightning",
    "lightning": "lightning",
    "triton": "triton",
    "spandrel": "spandrel",
    "gguf": "gguf",
}
# torch first (everything else loads it), then numpy, then the rest alphabetically
FIRST = ("torch", "numpy")

_DIST_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<version>[0-9][^-]*?)(?:-py[^-]*)?\.(dist|egg)-info$")


@record
class TargetEnv:
    root: Path
    python: Path
    site_packages: list[Path] = field(default_factory=list)
    distributions: dict[str, str] = field(default_factory=dict)  # canonical name -> version


class EnvError(Exception):
    """The environment cannot be used: the message says what to pass instead."""


def parse_distributions(names: list[str]) -> dict[str, str]:
    """Installed distributions from the entry names of site-packages: 'numpy-2.4.6.dist-info' -> numpy 2.4.6."""
    found: dict[str, str] = {}
    for name in names:
        match = _DIST_RE.match(name.strip())
        if match:
            found[canonicalize_name(match["name"])] = match["version"]
    return found


def parse_torch_build(version_py: str) -> dict[str, str | None]:
    """torch/version.py: `__version__ = '2.13.0+cpu'`, `cuda = '12.6'`, `hip = None`... (never imported)."""
    build: dict[str, str | None] = {"version": None, "cuda": None, "hip": None}
    for key, pattern in (("version", r"__version__"), ("cuda", r"cuda"), ("hip", r"hip")):
        match = re.search(rf"^{pattern}\s*(?::\s*[\w\[\]|. ]+)?=\s*['\"]([^'\"]+)['\"]", version_py, re.M)
        if match:
            build[key] = match.group(1)
    return build


def torch_variant(build: dict[str, str | None]) -> str | None:
    """'rocm', 'cuda' or 'cpu' from a parsed torch/version.py."""
    if build.get("hip"):
        return "rocm"
    if build.get("cuda"):
        return "cuda"
    return "cpu" if build.get("version") else None


def important_modules(distributions: dict[str, str]) -> list[tuple[str, str]]:
    """(distribution, module) pairs to import-check, installed ones only, one per module, in a useful order."""
    pairs: dict[str, str] = {}
    for dist in sorted(distributions):
        module = IMPORTANT.get(dist)
        if module and module not in pairs.values():
            pairs[dist] = module
    return sorted(pairs.items(), key=lambda p: (p[0] not in FIRST, FIRST.index(p[0]) if p[0] in FIRST else 0, p[0]))


def scan_env(root: Path) -> TargetEnv:
    python = next((root / "bin" / n for n in ("python", "python3") if (root / "bin" / n).exists()), None)
    if python is None:
        raise EnvError(
            f"{root} has no bin/python: give the directory of a virtual environment (the one that holds bin/python)"
        )
    patterns = ("lib/python3*/site-packages", "lib64/python3*/site-packages")
    site = sorted({p.resolve() for pattern in patterns for p in root.glob(pattern)})
    names: list[str] = []
    for directory in site:
        try:
            names.extend(os.listdir(directory))
        except OSError:
            continue
    return TargetEnv(root=root, python=python, site_packages=site, distributions=parse_distributions(names))


def torch_build(env: TargetEnv) -> dict[str, str | None]:
    for directory in env.site_packages:
        try:
            return parse_torch_build((directory / "torch" / "version.py").read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return {"version": None, "cuda": None, "hip": None}
