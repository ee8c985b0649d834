"""The install options `rigfit install` and `rigfit up` share, declared once (rigfit.cli_args option types)."""

from __future__ import annotations

from typing import Annotated, Optional

from rigfit.cli_args import Option

SourceOpt = Annotated[
    Optional[str],  # noqa: UP045
    Option("--source", help="The UI's code: a local folder, a .tar.gz or a git URL (default: upstream)."),
]
MirrorOpt = Annotated[
    Optional[str],  # noqa: UP045
    Option("--mirror", help="A folder of REPOSITORY.tar.gz archives or git repos standing in for GitHub."),
]
TorchWheelOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    Option("--torch-wheel", help="Your own torch/torchvision/torchaudio wheel (repeatable)."),
]
