"""Item and user features from every modality: text, images, clips, prices, codes, reviews, queries.

Encoders load from installed packages or local folders; nothing is downloaded. A typical
session::

    from mercato.features import ItemEncoders, build_item_features, build_user_features
    from mercato.features import E5Encoder, efficientnet_lite0_encoder

    encoders = ItemEncoders(text=E5Encoder(), image=efficientnet_lite0_encoder())
    items = build_item_features(dataset, encoders, cache_dir=".mercato/features")
    items.text.shape, items.image_mask.mean()  # ([I, 384], share of items with a picture)
    users = build_user_features(dataset, encoders.text, cache_dir=".mercato/features")
    items.save("features/items.npz")
"""

from mercato.features._build import (
    IMAGE_ENCODER_NAMES,
    TEXT_ENCODER_NAMES,
    ItemEncoders,
    build_item_features,
    build_user_features,
    image_encoder_named,
    text_encoder_named,
)
from mercato.features._cache import FeatureCache, content_key
from mercato.features._feature_sets import ItemFeatures, UserFeatures
from mercato.features._image import (
    CLIP_TRANSFORM,
    IMAGENET_TRANSFORM,
    LITE_TRANSFORM,
    ImageEncoder,
    ImageTransform,
    TorchImageEncoder,
    UnreadableMediaError,
    decode_image,
    efficientnet_lite0_encoder,
)
from mercato.features._pretrained import (
    open_clip_image_encoder,
    timm_image_encoder,
    torchvision_image_encoder,
)
from mercato.features._signals import (
    ItemReviewSignals,
    UserTextSignal,
    item_review_signals,
    recent_query_signal,
    user_review_signal,
)
from mercato.features._tabular import (
    AttributeCodes,
    CategoryCodes,
    PriceFeatures,
    encode_attributes,
    encode_category_paths,
    encode_labels,
    encode_prices,
)
from mercato.features._text import (
    E5Encoder,
    FittableTextEncoder,
    SentenceTransformerEncoder,
    TextEncoder,
    default_text_encoder,
    minilm_encoder,
    sentence_transformer_encoder,
)
from mercato.features._tfidf import TfidfEncoder, has_cjk, tokenise
from mercato.features._video import VideoSampling, read_frames

__all__ = [
    "CLIP_TRANSFORM",
    "IMAGENET_TRANSFORM",
    "IMAGE_ENCODER_NAMES",
    "LITE_TRANSFORM",
    "TEXT_ENCODER_NAMES",
    "AttributeCodes",
    "CategoryCodes",
    "E5Encoder",
    "FeatureCache",
    "FittableTextEncoder",
    "ImageEncoder",
    "ImageTransform",
    "ItemEncoders",
    "ItemFeatures",
    "ItemReviewSignals",
    "PriceFeatures",
    "SentenceTransformerEncoder",
    "TextEncoder",
    "TfidfEncoder",
    "TorchImageEncoder",
    "UnreadableMediaError",
    "UserFeatures",
    "UserTextSignal",
    "VideoSampling",
    "build_item_features",
    "build_user_features",
    "content_key",
    "decode_image",
    "default_text_encoder",
    "efficientnet_lite0_encoder",
    "encode_attributes",
    "encode_category_paths",
    "encode_labels",
    "encode_prices",
    "has_cjk",
    "image_encoder_named",
    "item_review_signals",
    "minilm_encoder",
    "open_clip_image_encoder",
    "read_frames",
    "recent_query_signal",
    "sentence_transformer_encoder",
    "text_encoder_named",
    "timm_image_encoder",
    "tokenise",
    "torchvision_image_encoder",
    "user_review_signal",
]
