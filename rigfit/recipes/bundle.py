"""The build folder `rigfit docker -o DIR` writes: Dockerfile, compose.yaml, scripts, .dockerignore, .env.example,
README.md, and rigfit's own source (rigfit-src/), which the image installs to run `rigfit install` inside.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from pathlib import Path

import rigfit
from rigfit.paths import write_atomic
from rigfit.recipes import image
from rigfit.recipes.compose import GID_VARS, compose_yaml, gid_note
from rigfit.recipes.target import Target

EXECUTABLE = ("start.sh", "pod-start.sh")
IGNORED = ("__pycache__", "*.pyc", "*.pyo")


def bundle_files(target: Target, invocation: str = "rigfit docker ...") -> dict[str, str]:
    """{relative path: text} of every generated file (rigfit-src/ excepted)."""
    files = {
        "Dockerfile": image.dockerfile(target),
        "compose.yaml": compose_yaml(target),
        "start.sh": image.start_script(target),
        "healthcheck.py": image.healthcheck_script(target),
        ".dockerignore": dockerignore(),
        ".env.example": env_example(target),
        "README.md": readme(target, invocation),
    }
    if image.pin_lines(target.plan):
        files[image.PINS_FILE] = image.pins_file(target)
    if target.pod:
        files["pod-start.sh"] = image.pod_start_script(target)
        files["jupyter_server_config.py"] = image.jupyter_config()
        files["sshd_config"] = image.sshd_config()
    return files


def pyproject() -> str:
    """A pyproject for the copied package, from the installed metadata (a wheel install has no pyproject)."""
    meta = importlib.metadata.metadata("rigfit")
    requires = [r for r in importlib.metadata.requires("rigfit") or [] if "extra ==" not in r]
    deps = "".join(f'    "{r}",\n' for r in requires)
    return (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "rigfit"\nversion = "{meta["Version"]}"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{deps}]\n\n"
        '[project.scripts]\nrigfit = "rigfit.cli:main"\n\n'
        '[tool.setuptools.packages.find]\ninclude = ["rigfit*"]\n\n'
        '[tool.setuptools.package-data]\n"*" = ["**/*.yaml", "**/*.json", "**/*.md"]\n'
    )


def copy_rigfit_source(dest: Path) -> None:
    """rigfit's package and a pyproject into dest (replaced whole, so a rebuild never mixes two versions)."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(Path(rigfit.__file__).parent, tmp / "rigfit", ignore=shutil.ignore_patterns(*IGNORED))
    (tmp / "pyproject.toml").write_text(pyproject(), encoding="utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)


def write_bundle(target: Target, out: Path, invocation: str = "rigfit docker ...") -> list[Path]:
    written = []
    for rel, text in bundle_files(target, invocation).items():
        path = out / rel
        write_atomic(path, text)
        if rel in EXECUTABLE:
            path.chmod(0o755)
        written.append(path)
    copy_rigfit_source(out / "rigfit-src")
    return [*written, out / "rigfit-src"]


def summary(target: Target, written: list[Path], notes: list[str]) -> dict[str, object]:
    """`rigfit docker --json` (schema rigfit.docker/1: keys are added, never renamed)."""
    torch = target.plan.torch
    return {
        "schema": "rigfit.docker/1",
        "ui": target.plan.ui,
        "backend": target.backend,
        "torch": f"{torch.version}+{torch.variant}" if torch.variant else torch.version,
        "python": target.python,
        "services": [{"gpu": s.runtime_index, "port": s.port, "device": s.name} for s in target.slots],
        "files": [str(p) for p in written],
        "notes": notes,
    }


def dockerignore() -> str:
    return (
        "# The build needs only the generated files and rigfit-src/: never the models, outputs or secrets.\n"
        "*\n!Dockerfile\n!start.sh\n!pod-start.sh\n!healthcheck.py\n!jupyter_server_config.py\n!sshd_config\n"
        f"!{image.PINS_FILE}\n!rigfit-src\nrigfit-src/**/__pycache__\n"
    )


def env_example(target: Target) -> str:
    lines = [
        "# Copy to .env (next to compose.yaml) and fill in. .env is read by `docker compose`, never copied into the",
        "# image (.dockerignore), and holds the only secrets: keep it private (chmod 600 .env).",
        "MODELS_DIR=./models",
        "OUTPUTS_DIR=./outputs",
        "STATE_DIR=./state",
    ]
    if target.backend == "rocm" and target.gids is None:
        lines += [
            "# numeric groups of the GPU device files on THIS host: stat -c %g /dev/kfd /dev/dri/renderD128",
            *(f"{var}=" for var in GID_VARS),
        ]
    if target.listen and target.ui.auth_file_flag:
        lines += ["# the UI's login (user:password), required: the UI is published on every interface", "UI_AUTH="]
    if target.pod:
        lines += [
            "# empty: a random token/password is made at first start and printed in the log",
            "JUPYTER_TOKEN=",
            "UI_AUTH=" if target.ui.auth_file_flag else "",
            "# SSH is on only with your public key (ssh-ed25519 AAAA...)",
            "PUBLIC_KEY=",
        ]
    return "\n".join(line for line in lines if line != "") + "\n"


def readme(target: Target, invocation: str) -> str:
    plan, ui = target.plan, target.ui
    mounts = ui.container.mounts
    urls = "\n".join(f"- {slot.name}: http://127.0.0.1:{slot.port}" for slot in target.slots)
    notes = "".join(f"- {note}\n" for note in [*target.notes, gid_note(target)] if note)
    gpu = {
        "cuda": "the NVIDIA driver and the NVIDIA Container Toolkit on the host (`nvidia-ctk runtime configure`).",
        "rocm": "only the amdgpu kernel driver on the host (no ROCm there: the torch wheel brings its own); the "
        "container gets /dev/kfd and /dev/dri and the host's numeric groups of them.",
        "cpu": "nothing: this image runs on the CPU.",
    }[plan.backend]
    return f"""# {ui.name} in a container ({plan.backend})

Written by `rigfit docker` from the plan: torch {plan.torch.version} {plan.torch.variant or ""}, device
{plan.device.name}, flags `{" ".join(plan.ui_flags)}`. The image installs rigfit (from `rigfit-src/`) and runs
`rigfit install {plan.ui}` inside it, as the non-root user `sd`, so the UI's requirements cannot replace that torch.

Needs: Docker Engine with Compose v2; {gpu}

## Build and run

    mkdir -p models outputs state && cp .env.example .env   # then edit .env
    docker compose build
    docker compose up -d
    docker compose ps        # "healthy" once {ui.health} answers
    docker compose logs -f

{urls}

## Where things go

- Models: `./models` on the host (MODELS_DIR) = `{mounts["models"]}` in the container. Put checkpoints there.
- Outputs: `./outputs` (OUTPUTS_DIR) = `{mounts["outputs"]}`; settings, extensions, user files: `./state` (STATE_DIR)
  = `{mounts["state"]}`; downloads caches: the `cache` volume. Rebuilding or removing the container keeps all of them.
- The host folders must be writable by uid 1000 (`sudo chown -R 1000:1000 models outputs state` if they are not).

## Update

    {invocation}    # writes these files again from a fresh plan
    docker compose build --pull && docker compose up -d

## Notes

{notes}- The port is bound to 127.0.0.1 unless the files were written with `--listen` (then the UI's login is required
  and comes from UI_AUTH in `.env`; the container keeps it in a 0600 file, not in the UI's environment).
"""
