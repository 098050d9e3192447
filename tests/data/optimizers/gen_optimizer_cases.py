"""Golden values for the optimizers, computed by Keras itself (TensorFlow's bundled Keras 3).

    python tests/data/optimizers/gen_optimizer_cases.py   (tensorflow-cpu, safetensors, numpy)

From the chapter's seed network with Keras's initial weights (../seed_mlp_init.safetensors,
copied from the shared keras-cases) and the first 192 bundled training digits (pixels / 255),
each case trains 3 steps with `train_on_batch` on batches of 64 in order (0..63, 64..127,
128..191) — what `steadygrad train --model DIR --batch-size 64 --steps 3 --no-shuffle` does —
and writes:

  <case>.safetensors: every weight after the 3 steps (`<layer>/<var>`, BN moving statistics
                      included) and, for the small network, the optimizer's variables under
                      their Keras paths (`optimizer/adam/sequential_dense_kernel_momentum`;
                      Nadam's u_product is its unnamed `variable`);
  cases.json:         per case the optimizer's class and config and the three losses.

Clipping (clipnorm for each optimizer, clipvalue, global_clipnorm) and the variants
(momentum, centered, amsgrad, other betas, initial accumulator) run on a small network
(Flatten -> Dense 16 elu -> BatchNormalization -> Dense 10 softmax, seed 7) to keep the
files small; its initial weights are small_init.safetensors.
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
from safetensors.numpy import load_file, save_file

keras = tf.keras
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "data")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    (magic,) = struct.unpack(">I", b[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, b[4 : 4 + 4 * ndim])
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def seed_network():
    L = keras.layers
    keras.backend.clear_session()
    keras.utils.set_random_seed(42)
    return keras.models.Sequential(
        [
            keras.Input(shape=(28, 28)),
            L.Flatten(),
            L.BatchNormalization(),
            L.Dense(300, activation="elu", kernel_initializer="he_normal"),
            L.BatchNormalization(),
            L.Dense(100, activation="elu", kernel_initializer="he_normal"),
            L.BatchNormalization(),
            L.Dense(10, activation="softmax"),
        ]
    )


def small_network():
    L = keras.layers
    keras.backend.clear_session()
    keras.utils.set_random_seed(7)
    return keras.models.Sequential(
        [
            keras.Input(shape=(28, 28)),
            L.Flatten(),
            L.Dense(16, activation="elu", kernel_initializer="he_normal"),
            L.BatchNormalization(),
            L.Dense(10, activation="softmax"),
        ]
    )


def weights(model):
    return {
        f"{l.name}/{v.name}": np.ascontiguousarray(v.numpy().astype(np.float32))
        for l in model.layers
        for v in l.weights
    }


def set_weights(model, init):
    for l in model.layers:
        for v in l.weights:
            v.assign(init[f"{l.name}/{v.name}"])


SEED_CASES = {
    "adagrad": ("Adagrad", {"learning_rate": 0.01}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.001}),
    "adam": ("Adam", {"learning_rate": 0.002}),
    "nadam": ("Nadam", {"learning_rate": 0.002}),
}
SMALL_CASES = {
    "small_adagrad_clipnorm": ("Adagrad", {"learning_rate": 0.05, "clipnorm": 0.5}),
    "small_rmsprop_clipnorm": ("RMSprop", {"learning_rate": 0.01, "clipnorm": 0.5}),
    "small_adam_clipnorm": ("Adam", {"learning_rate": 0.01, "clipnorm": 0.5}),
    "small_nadam_clipnorm": ("Nadam", {"learning_rate": 0.01, "clipnorm": 0.5}),
    "small_rmsprop_momentum": ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5}),
    "small_rmsprop_centered": ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    "small_rmsprop_centered_momentum": (
        "RMSprop",
        {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.3, "centered": True, "epsilon": 1e-6},
    ),
    "small_adam_amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True, "beta_1": 0.8}),
    "small_nadam_betas": ("Nadam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99}),
    "small_adagrad_init": ("Adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.5}),
    "small_adam_clipvalue": ("Adam", {"learning_rate": 0.01, "clipvalue": 0.001}),
    "small_nadam_global_clipnorm": ("Nadam", {"learning_rate": 0.01, "global_clipnorm": 0.1}),
}


def run(build, init, cls, cfg, x, y, with_state):
    model = build()
    set_weights(model, init)
    opt = getattr(keras.optimizers, cls)(**cfg)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=opt)
    losses = []
    for s in range(3):
        xb, yb = x[64 * s : 64 * (s + 1)], y[64 * s : 64 * (s + 1)]
        losses.append(float(model.train_on_batch(xb, yb)))
    out = weights(model)
    for v in opt.variables if with_state else []:
        out[f"optimizer/{v.path}"] = np.ascontiguousarray(
            np.asarray(v.numpy()).astype(np.float32).reshape(-1)
        )
    return out, losses


def main():
    x = (read_idx(f"{DATA}/mnist10k-train-images-idx3-ubyte.gz")[:192].astype(np.float32) / np.float32(255.0)).astype(np.float32)
    y = read_idx(f"{DATA}/mnist10k-train-labels-idx1-ubyte.gz")[:192].astype(np.int64)
    seed_init = load_file(os.path.join(HERE, "..", "seed_mlp_init.safetensors"))
    small = small_network()
    small_init = weights(small)
    save_file(small_init, os.path.join(HERE, "small_init.safetensors"))
    cases = {}
    for group, build, init in [
        (SEED_CASES, seed_network, seed_init),
        (SMALL_CASES, small_network, small_init),
    ]:
        for name, (cls, cfg) in group.items():
            out, losses = run(build, init, cls, cfg, x, y, group is SMALL_CASES)
            save_file(out, os.path.join(HERE, f"{name}.safetensors"))
            cases[name] = {
                "network": "seed" if group is SEED_CASES else "small",
                "class": cls,
                "config": cfg,
                "losses": losses,
                "keras": keras.__version__,
            }
            print(name, losses)
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
