"""Golden values for the chapter's second half, computed by Keras itself (TensorFlow's bundled Keras 3).

    python tests/data/regularization/gen_cases.py   (tensorflow-cpu==2.21.0, safetensors, numpy)

Training cases: a small network (Flatten -> Dense 16 elu -> BatchNormalization -> Dense 10
softmax, Keras's initial weights, seed 7) or a small CNN, with weight regularizers,
constraints or an optimizer of this wave, trained 3 steps with `train_on_batch` on batches
of 64 of the first 192 bundled training digits, in order. Writes per case:

  <case>.json:               model.to_json() (regularizers and constraints in Keras's form);
  <case>_init.safetensors:   the initial weights (`<layer>/<var>`);
  <case>_after.safetensors:  every weight after the 3 steps;

and cases.json: per case the optimizer's class and config (a schedule by its class and
config) and the three losses Keras reported (the batch loss plus the penalties).

schedules.json: for each learning-rate schedule, its class, config and its value at steps
0..59 as Keras evaluates it.
"""
import gzip
import json
import os
import struct
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore")

import numpy as np
import tensorflow as tf
from safetensors.numpy import save_file

keras = tf.keras
L = keras.layers
R = keras.regularizers
C = keras.constraints
S = keras.optimizers.schedules
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "data")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    (magic,) = struct.unpack(">I", b[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, b[4 : 4 + 4 * ndim])
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def mlp(d1=None, bn=None, d2=None):
    return [
        keras.Input(shape=(28, 28)),
        L.Flatten(),
        L.Dense(16, activation="elu", kernel_initializer="he_normal", **(d1 or {})),
        L.BatchNormalization(**(bn or {})),
        L.Dense(10, activation="softmax", **(d2 or {})),
    ]


def cnn(conv=None, dense=None):
    return [
        keras.Input(shape=(28, 28)),
        L.Reshape((28, 28, 1)),
        L.Conv2D(4, 3, strides=2, activation="relu", **(conv or {})),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(10, activation="softmax", **(dense or {})),
    ]


SGD = ("SGD", {"learning_rate": 0.05})
CASES = {
    "reg_l1": (lambda: mlp({"kernel_regularizer": R.L1(0.01)}, None, {"kernel_regularizer": R.L1(0.005)}), SGD),
    "reg_l2": (
        lambda: mlp({"kernel_regularizer": R.L2(0.01), "bias_regularizer": R.L2(0.02)}),
        ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    ),
    "reg_l1l2": (
        lambda: mlp(None, {"gamma_regularizer": R.L2(0.01)}, {"kernel_regularizer": R.L1L2(l1=0.003, l2=0.02)}),
        ("Adam", {"learning_rate": 0.01}),
    ),
    "maxnorm": (
        lambda: mlp({"kernel_constraint": C.MaxNorm(0.5)}, None, {"kernel_constraint": C.MaxNorm(1.0, axis=0), "bias_constraint": C.MaxNorm(0.05)}),
        ("SGD", {"learning_rate": 0.2}),
    ),
    "cnn_maxnorm_l2": (
        lambda: cnn({"kernel_constraint": C.MaxNorm(1.0, axis=[0, 1, 2]), "kernel_regularizer": R.L2(0.01)}, {"kernel_regularizer": R.L1(0.001)}),
        ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ),
    "adamw": (mlp, ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.05})),
    "adamw_default": (mlp, ("AdamW", {"learning_rate": 0.02})),
    "adamax": (mlp, ("Adamax", {"learning_rate": 0.01})),
    "sgd_weight_decay": (mlp, ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.01})),
    "adam_weight_decay": (mlp, ("Adam", {"learning_rate": 0.01, "weight_decay": 0.02})),
    "adamw_inverse_time": (
        mlp,
        ("AdamW", {"learning_rate": ("InverseTimeDecay", {"initial_learning_rate": 0.02, "decay_steps": 1, "decay_rate": 0.5})}),
    ),
}

SCHEDULES = {
    "inverse_time": ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}),
    "inverse_time_staircase": ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 1.5, "staircase": True}),
    "cosine": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 40}),
    "cosine_alpha": ("CosineDecay", {"initial_learning_rate": 0.05, "decay_steps": 30, "alpha": 0.1}),
    "cosine_warmup": ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 40, "alpha": 0.05, "warmup_target": 0.1, "warmup_steps": 10}),
    "exponential": ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}),
    "piecewise": ("PiecewiseConstantDecay", {"boundaries": [10, 25], "values": [0.1, 0.05, 0.01]}),
}


def weights(model):
    return {
        f"{l.name}/{v.name}": np.ascontiguousarray(v.numpy().astype(np.float32))
        for l in model.layers
        for v in l.weights
    }


def optimizer(cls, cfg):
    cfg = dict(cfg)
    lr = cfg.get("learning_rate")
    if isinstance(lr, tuple):
        cfg["learning_rate"] = getattr(S, lr[0])(**lr[1])
    return getattr(keras.optimizers, cls)(**cfg)


def main():
    x = (read_idx(f"{DATA}/mnist10k-train-images-idx3-ubyte.gz")[:192].astype(np.float32) / np.float32(255.0)).astype(np.float32)
    y = read_idx(f"{DATA}/mnist10k-train-labels-idx1-ubyte.gz")[:192].astype(np.int64)
    cases = {}
    for name, (build, (cls, cfg)) in CASES.items():
        keras.backend.clear_session()
        keras.utils.set_random_seed(7)
        model = keras.models.Sequential(build())
        with open(os.path.join(HERE, f"{name}.json"), "w") as f:
            f.write(model.to_json())
        save_file(weights(model), os.path.join(HERE, f"{name}_init.safetensors"))
        model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer(cls, cfg))
        losses = [float(model.train_on_batch(x[64 * s : 64 * (s + 1)], y[64 * s : 64 * (s + 1)])) for s in range(3)]
        save_file(weights(model), os.path.join(HERE, f"{name}_after.safetensors"))
        lr = cfg.get("learning_rate")
        config = dict(cfg)
        if isinstance(lr, tuple):
            config["learning_rate"] = {"class": lr[0], "config": lr[1]}
        cases[name] = {"class": cls, "config": config, "losses": losses, "keras": keras.__version__}
        print(name, losses)
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    schedules = {}
    for name, (cls, cfg) in SCHEDULES.items():
        s = getattr(S, cls)(**cfg)
        schedules[name] = {"class": cls, "config": cfg, "values": [float(s(step)) for step in range(60)]}
    with open(os.path.join(HERE, "schedules.json"), "w") as f:
        json.dump(schedules, f, indent=1)


if __name__ == "__main__":
    main()
