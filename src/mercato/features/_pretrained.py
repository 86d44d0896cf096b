"""Image encoders from local checkpoints of torchvision, timm or open_clip architectures.

Each loader builds the architecture without weights and reads the given file, so nothing is
fetched from a hub. The libraries are optional: a missing one raises ``ConfigError`` naming it.

Stability: experimental. The torchvision, timm and open_clip paths are exercised only where
those libraries are installed (the test suite checks the error when they are not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mercato.errors import ConfigError
from mercato.features._image import (
    CLIP_TRANSFORM,
    IMAGENET_TRANSFORM,
    ImageEncoder,
    ImageTransform,
    TorchImageEncoder,
)
from mercato.features._packages import file_digest, require_package

if TYPE_CHECKING:
    import torch

__all__ = [
    "drop_classifier",
    "open_clip_image_encoder",
    "read_state_dict",
    "timm_image_encoder",
    "torchvision_image_encoder",
]

# Where classification networks keep their last layer, in the order the libraries use them.
_HEAD_ATTRIBUTES = ("fc", "classifier", "head", "heads")


def torchvision_image_encoder(
    arch: str,
    weights: str | Path,
    *,
    transform: ImageTransform = IMAGENET_TRANSFORM,
    device: str = "cpu",
) -> ImageEncoder:
    """A torchvision classifier (e.g. ``"resnet50"``) with its head removed: pooled features.

    Args:
        arch: Name for ``torchvision.models.get_model``.
        weights: Local ``.pth`` / ``.safetensors`` state dict of that architecture.
        transform: Preprocessing of the checkpoint (ImageNet statistics by default).
        device: Torch device.

    Raises:
        ConfigError: torchvision is not installed or the weights file is missing.
    """
    torchvision = require_package(
        "torchvision", pip_name="torchvision", needed_for=f"the torchvision image encoder {arch}"
    )
    path = _weights_file(weights)

    def load(device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        model = torchvision.models.get_model(arch, weights=None)
        model.load_state_dict(read_state_dict(path))
        drop_classifier(model, arch)
        return _ready(model, device)

    return TorchImageEncoder(
        f"torchvision-{arch}",
        load=load,
        fingerprint=f"torchvision:{arch}:{file_digest(path)}",
        transform=transform,
        device=device,
    )


def timm_image_encoder(
    arch: str,
    weights: str | Path,
    *,
    transform: ImageTransform = IMAGENET_TRANSFORM,
    device: str = "cpu",
) -> ImageEncoder:
    """A timm model (e.g. ``"convnext_tiny"``) built with ``num_classes=0``: pooled features.

    Args:
        arch: Name for ``timm.create_model``.
        weights: Local state dict; the classifier's keys in it are ignored.
        transform: Preprocessing of the checkpoint (see the model's ``pretrained_cfg``).
        device: Torch device.

    Raises:
        ConfigError: timm is not installed, the file is missing, or it lacks backbone weights.
    """
    timm = require_package("timm", pip_name="timm", needed_for=f"the timm image encoder {arch}")
    path = _weights_file(weights)

    def load(device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        model = timm.create_model(arch, pretrained=False, num_classes=0)
        missing, _unused_head = model.load_state_dict(read_state_dict(path), strict=False)
        if missing:
            raise ConfigError(
                f"{path} does not fit timm model {arch}: {len(missing)} weights are missing "
                f"(first: {missing[0]}). Fix: pass a checkpoint of that architecture."
            )
        return _ready(model, device)

    return TorchImageEncoder(
        f"timm-{arch}",
        load=load,
        fingerprint=f"timm:{arch}:{file_digest(path)}",
        transform=transform,
        device=device,
    )


def open_clip_image_encoder(
    arch: str,
    weights: str | Path,
    *,
    transform: ImageTransform = CLIP_TRANSFORM,
    device: str = "cpu",
) -> ImageEncoder:
    """The image tower of an open_clip model (e.g. ``"ViT-B-32"``) from a local checkpoint.

    Args:
        arch: Model name for ``open_clip.create_model``.
        weights: Local checkpoint file, passed as ``pretrained`` (a path is read, not fetched).
        transform: Preprocessing (CLIP's channel statistics, 224 px, by default).
        device: Torch device.

    Raises:
        ConfigError: open_clip is not installed or the weights file is missing.
    """
    open_clip = require_package(
        "open_clip", pip_name="open_clip_torch", needed_for=f"the open_clip image encoder {arch}"
    )
    path = _weights_file(weights)

    def load(device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        model = open_clip.create_model(arch, pretrained=str(path), device=device)
        model.eval()
        encode: Callable[[torch.Tensor], torch.Tensor] = model.encode_image
        return encode

    return TorchImageEncoder(
        f"open-clip-{arch}",
        load=load,
        fingerprint=f"open_clip:{arch}:{file_digest(path)}",
        transform=transform,
        device=device,
    )


def read_state_dict(path: Path) -> Mapping[str, Any]:
    """A checkpoint's tensors by name, from ``.safetensors`` or a torch pickle (weights only).

    Training checkpoints that wrap the weights in ``{"state_dict": ...}`` or ``{"model": ...}``
    are unwrapped.
    """
    if path.suffix == ".safetensors":
        safetensors = require_package(
            "safetensors.torch", pip_name="safetensors", needed_for="reading .safetensors weights"
        )
        state: Mapping[str, Any] = safetensors.load_file(str(path))
        return state
    torch_module = require_package("torch", pip_name="torch", needed_for="image encoders")
    state = torch_module.load(path, map_location="cpu", weights_only=True)
    for wrapper in ("state_dict", "model"):
        if isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
    return state


def drop_classifier(model: Any, arch: str) -> None:
    """Replace the last linear layer of a classification network with an identity, in place.

    Raises:
        ConfigError: no ``fc`` / ``classifier`` / ``head`` / ``heads`` linear layer was found.
    """
    nn = require_package("torch.nn", pip_name="torch", needed_for="image encoders")
    for attribute in _HEAD_ATTRIBUTES:
        head = getattr(model, attribute, None)
        if isinstance(head, nn.Linear):
            setattr(model, attribute, nn.Identity())
            return
        if isinstance(head, nn.Sequential):
            linear = [index for index, layer in enumerate(head) if isinstance(layer, nn.Linear)]
            if linear:
                head[linear[-1]] = nn.Identity()
                return
    raise ConfigError(
        f"cannot find the classification head of {arch}: none of {', '.join(_HEAD_ATTRIBUTES)} "
        "is a linear layer. Fix: wrap the network in TorchImageEncoder with your own loader."
    )


def _ready(model: Any, device: str) -> Callable[[torch.Tensor], torch.Tensor]:
    model.eval().to(device)
    network: Callable[[torch.Tensor], torch.Tensor] = model
    return network


def _weights_file(weights: str | Path) -> Path:
    path = Path(weights)
    if not path.is_file():
        raise ConfigError(
            f"image encoder weights not found at {path}. Fix: pass the path of a local "
            ".pth or .safetensors file; nothing is downloaded."
        )
    return path
