"""VGG16 / ResNet50 transfer-learning models with the paper's head.

The model takes 0–255 RGB spectrogram images; each backbone's own ImageNet
preprocessing (caffe style: RGB→BGR, per-channel mean subtraction) is a layer
inside the model, so a saved model cannot be fed mis-scaled input.

Layer names the rest of genrec relies on: ``embedding`` (the penultimate
dense layer whose output is the recommendation embedding) and ``genre``
(the softmax).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from genrec.config import ARCHITECTURES, IMAGE_SIZE
from genrec.errors import RunError, WeightsError

# Retracing notices from predict_on_batch over several models are expected here, not a user problem.
tf.get_logger().setLevel("ERROR")

EMBEDDING_LAYER = "embedding"
OUTPUT_LAYER = "genre"
NORM_LAYER = "feature_norm"
POOL_LAYER = "pool"
HEAD_LAYERS = (POOL_LAYER, NORM_LAYER, EMBEDDING_LAYER, "dropout", OUTPUT_LAYER)
#: ImageNet channel means in BGR order, as used by keras.applications' "caffe" mode.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="genrec")
class CaffePreprocess(keras.layers.Layer):
    """``keras.applications.{vgg16,resnet50}.preprocess_input`` as a saveable layer."""

    def call(self, x):
        bgr = keras.ops.flip(x, axis=-1)
        return bgr - keras.ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype=x.dtype)


@dataclass(frozen=True)
class WeightsSource:
    """Where a backbone's starting weights came from; recorded in every run."""

    kind: str  # "imagenet", "none" (random init) or "file"
    file: str | None = None
    sha256: str | None = None

    @property
    def label(self) -> str:
        return {"imagenet": "ImageNet", "none": "random init"}.get(self.kind, f"file {Path(self.file or '').name}")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "file": self.file, "sha256": self.sha256, "label": self.label}


#: The names keras.applications gives the ImageNet 'notop' weights files it downloads (``get_file``).
IMAGENET_NOTOP_FILES = {
    "vgg16": "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "resnet50": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
}


def imagenet_source(arch: str) -> WeightsSource:
    """The ImageNet source of a backbone just built, with the file Keras loaded and its SHA-256.

    ``keras.utils.get_file`` keeps the file in ``<Keras home>/models`` ($KERAS_HOME or ~/.keras;
    /tmp/.keras when that is not writable) after checking it against Keras' own hash.
    """
    from keras.src.backend.config import keras_home  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    for base in (keras_home(), os.path.join(tempfile.gettempdir(), ".keras")):
        path = Path(base).expanduser() / "models" / IMAGENET_NOTOP_FILES[arch]
        if path.is_file():
            return WeightsSource("imagenet", str(path), _sha256(path))
    return WeightsSource("imagenet")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _backbone_class(arch: str):
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{arch}'; choose one of {', '.join(ARCHITECTURES)}")
    return {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50}[arch]


def weights_source(weights: str) -> WeightsSource:
    """Interpret ``--weights``: "imagenet", "none" or a path to a local weights file."""
    if weights in ("imagenet", "none"):
        return WeightsSource(weights)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsError(
            f"{weights}: weights file not found. Use --weights imagenet, --weights none, or the path of a "
            f"Keras 'notop' weights file (e.g. vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5)."
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return WeightsSource("file", str(path.resolve()), digest)


def build_backbone(arch: str, source: WeightsSource, input_size: int = IMAGE_SIZE) -> keras.Model:
    """The convolutional base (``include_top=False``) with the requested starting weights."""
    cls = _backbone_class(arch)
    shape = (input_size, input_size, 3)
    arg = {"imagenet": "imagenet", "none": None}.get(source.kind, source.file)
    try:
        return cls(include_top=False, weights=arg, input_shape=shape)
    except Exception as exc:  # network errors, HDF5 errors and shape mismatches all surface here
        if source.kind == "imagenet":
            raise WeightsError(
                f"could not get the ImageNet weights for {arch} ({exc}). Keras downloads them on first use "
                f"into ~/.keras/models; without internet, train with --weights none (random init) or pass "
                f"--weights FILE with a local copy of the 'notop' weights file."
            ) from exc
        raise WeightsError(f"{source.file}: could not load these weights into {arch} ({exc}).") from exc


def last_four_weighted(base: keras.Model) -> list[str]:
    """Names of the backbone's last four layers that have weights (the paper's switch).

    VGG16: block4_conv3, block5_conv1, block5_conv2, block5_conv3.
    ResNet50: conv5_block3_2_conv, conv5_block3_2_bn, conv5_block3_3_conv, conv5_block3_3_bn.
    """
    return [layer.name for layer in base.layers if layer.weights][-4:]


def build_model(
    arch: str,
    n_classes: int,
    *,
    weights: str | WeightsSource = "none",
    input_size: int = IMAGE_SIZE,
    last_four_trainable: bool = False,
    dropout: float = 0.2,
    embedding_units: int = 256,
    feature_norm: bool = True,
) -> keras.Model:
    """Backbone + head: global average pooling → standardisation → dense ``embedding`` (ReLU) → dropout → softmax.

    The backbone is frozen (its BatchNorm layers therefore run in inference
    mode), except its last four weighted layers when ``last_four_trainable``.
    The standardisation (``feature_norm``, a BatchNormalization not in the
    paper's head; ``feature_norm=False`` leaves it out) is there because pooled
    backbone features can have any scale (random-init VGG16's are ~0.1,
    ResNet50's ~1–10), which Adam at 1e-3 is slow to adapt to;
    ``benchmarks/head_ablation.py`` measures the difference. Unlike a fixed
    standardisation it follows the features while ``last_four_trainable``
    changes them.
    """
    source = weights if isinstance(weights, WeightsSource) else weights_source(weights)
    base = build_backbone(arch, source, input_size)
    base.trainable = True
    tail = set(last_four_weighted(base)) if last_four_trainable else set()
    for layer in base.layers:
        layer.trainable = layer.name in tail
    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = CaffePreprocess(name="preprocess")(inputs)
    # Calling the base's layers on the new input (rather than nesting the base as one layer) keeps every
    # backbone layer addressable, so the model can be cut where the frozen part ends.
    x = _apply_layers(base, x)
    x = keras.layers.GlobalAveragePooling2D(name=POOL_LAYER)(x)
    if feature_norm:
        x = keras.layers.BatchNormalization(momentum=0.9, name=NORM_LAYER)(x)
    x = keras.layers.Dense(embedding_units, activation="relu", name=EMBEDDING_LAYER)(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name=OUTPUT_LAYER)(x)
    return keras.Model(inputs, outputs, name=f"genrec_{arch}")


def _apply_layers(base: keras.Model, x):
    """Re-run a functional model's graph on a new input tensor."""
    return _replay(base, x)


def _replay(base: keras.Model, x):
    tensors = {id(base.inputs[0]): x}
    for layer in base.layers[1:]:
        node = layer._inbound_nodes[0]
        args = [tensors[id(t)] for t in node.input_tensors]
        out = layer(args[0] if len(args) == 1 else args)
        tensors[id(node.output_tensors[0])] = out
    return tensors[id(base.outputs[0])]


def _producer(tensor):
    return tensor._keras_history.operation


def _graph_inputs(model: keras.Model) -> dict[str, list]:
    """Layer name → the input tensors of its call in ``model``'s own graph.

    Walks back from the outputs through each tensor's history, so nodes added
    later (sub-models cut from this one clone parts of the graph) are ignored.
    """
    found: dict[str, list] = {}
    stack = list(model.outputs)
    while stack:
        op, node_index, _ = stack.pop()._keras_history
        if op.name in found:
            continue
        inputs = list(op._inbound_nodes[node_index].input_tensors)
        found[op.name] = inputs
        stack.extend(inputs)
    return found


def frozen_boundary(model: keras.Model) -> list:
    """Tensors where the frozen part of ``model`` ends and the trainable tail begins."""
    graph = _graph_inputs(model)
    downstream: set[str] = set()
    boundary, seen = [], set()
    for layer in model.layers:  # functional models list layers in topological order
        inputs = graph.get(layer.name, [])
        if isinstance(layer, keras.layers.InputLayer) or not inputs:
            continue
        if (layer.trainable and layer.weights) or any(_producer(t).name in downstream for t in inputs):
            downstream.add(layer.name)
            for t in inputs:
                if _producer(t).name not in downstream and id(t) not in seen:
                    seen.add(id(t))
                    boundary.append(t)
    return boundary


def split_model(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """(frozen part, trainable tail) sharing ``model``'s layers.

    Training the tail on the frozen part's cached outputs trains ``model`` itself.
    """
    boundary = frozen_boundary(model)
    frozen = keras.Model(model.inputs, boundary, name="frozen_part")
    tail = keras.Model(boundary, model.outputs, name="trainable_tail")
    return frozen, tail


def ends_at_pooling(frozen: keras.Model) -> bool:
    """Whether ``frozen`` (:func:`split_model`'s first half) outputs exactly the pooled features the head reads."""
    return len(frozen.outputs) == 1 and _producer(frozen.outputs[0]).name == POOL_LAYER


def trainable_backbone_layers(model: keras.Model) -> list[str]:
    """Backbone layers of ``model`` that train besides the head (empty when the backbone is frozen)."""
    return [layer.name for layer in model.layers if layer.trainable_weights and layer.name not in HEAD_LAYERS]


def with_embedding(model: keras.Model, inputs=None) -> keras.Model:
    """Model from ``inputs`` (default: the image) to (probabilities, ``embedding`` layer output)."""
    return keras.Model(
        inputs if inputs is not None else model.inputs, [model.outputs[0], model.get_layer(EMBEDDING_LAYER).output]
    )


def with_explain(model: keras.Model) -> keras.Model:
    """Image → (probabilities, embedding, last convolutional feature map): the input of ``pool``, for Grad-CAM."""
    return keras.Model(
        model.inputs, [model.outputs[0], model.get_layer(EMBEDDING_LAYER).output, model.get_layer(POOL_LAYER).input]
    )


def head_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """The head after pooling as plain arrays (see :class:`genrec.model.gradcam.Head`), for either head layout.

    ``feature_norm`` at inference is folded into one scale and shift per feature.
    """
    kernel, bias = model.get_layer(EMBEDDING_LAYER).get_weights()
    genre_kernel, genre_bias = model.get_layer(OUTPUT_LAYER).get_weights()
    scale, shift = np.ones(kernel.shape[0]), np.zeros(kernel.shape[0])
    if NORM_LAYER in {layer.name for layer in model.layers}:
        norm = model.get_layer(NORM_LAYER)
        gamma, beta, mean, var = norm.get_weights()
        scale = gamma / np.sqrt(var + norm.epsilon)
        shift = beta - mean * scale
    return {
        "norm_scale": scale,
        "norm_shift": shift,
        "embedding_kernel": kernel,
        "embedding_bias": bias,
        "genre_kernel": genre_kernel,
        "genre_bias": genre_bias,
    }


def tail_with_embedding(model: keras.Model) -> keras.Model:
    """From the frozen boundary to (probabilities, embedding): one pass over cached features gives both."""
    return with_embedding(model, frozen_boundary(model))


def load_model(path: Path | str) -> keras.Model:
    """Load a saved ``.keras`` model with ``safe_mode`` (no arbitrary code, no pickle)."""
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path}: model file missing. Retrain this run or copy its model.keras back.")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # zip, HDF5 and deserialisation errors all mean the file is unusable
        raise RunError(
            f"{path}: the model file is damaged or incomplete ({type(exc).__name__}: {str(exc)[:200]}). "
            f"Retrain the run or restore the file."
        ) from exc


def training_device() -> str:
    """What TensorFlow trains on here, in words: the GPUs it sees, or the CPU with the hint to get a GPU build."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = ", ".join(g.name.removeprefix("/physical_device:") for g in gpus)
        return f"GPU ({names})"
    return "CPU (TensorFlow sees no GPU; requirements-gpu.txt installs the GPU build)"
