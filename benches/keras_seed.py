"""Keras's speed on the seed network, for the README's comparison with `steadygrad bench`.

    pip install tensorflow-cpu
    python benches/keras_seed.py          # prints one JSON object
    python benches/keras_seed.py --batches 32,64,128,256,512,1024   # other batch sizes

The same network (Flatten -> BatchNormalization -> [Dense 300/100 elu he_normal ->
BatchNormalization] x 2 -> Dense 10 softmax), optimizer (SGD 0.01, Nesterov momentum 0.9)
and bundled digits (10,000 training images / 255) as `steadygrad bench`; samples/s of
`model.fit` over the best of three epochs after the first (which builds the graph), as
`steadygrad bench` takes the best of three rounds, at batch 32 and 256 (or the batch sizes
after `--batches`, as `steadygrad bench --sweep` takes them).
"""
import gzip
import json
import os
import struct
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import keras  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def idx(name):
    with gzip.open(os.path.join(ROOT, "data", name)) as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def seed_network():
    layers = [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.BatchNormalization()]
    for units in (300, 100):
        layers.append(keras.layers.Dense(units, activation="elu", kernel_initializer="he_normal"))
        layers.append(keras.layers.BatchNormalization())
    layers.append(keras.layers.Dense(10, activation="softmax"))
    return keras.Sequential(layers)


def speed(build, x, y, batch):
    """Samples/s of `model.fit` over the best of three epochs after the first (which builds
    the graph), SGD 0.01 with Nesterov momentum 0.9 (the CLI's default)."""
    keras.utils.set_random_seed(42)
    model = build()
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        best = min(best, time.perf_counter() - start)
    return len(x) / best


def batches(default):
    """The batch sizes after `--batches` on the command line (comma-separated), else `default`."""
    args = sys.argv[1:]
    if "--batches" not in args:
        return default
    at = args.index("--batches")
    if at + 1 >= len(args):
        sys.exit("--batches: give batch sizes, e.g. --batches 32,128")
    try:
        sizes = tuple(int(b) for b in args[at + 1].split(","))
    except ValueError:
        sys.exit(f"--batches: not a list of batch sizes: {args[at + 1]!r}")
    if not sizes or min(sizes) < 1:
        sys.exit(f"--batches: batch sizes must be positive: {args[at + 1]!r}")
    return sizes


def main():
    x = idx("mnist10k-train-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = idx("mnist10k-train-labels-idx1-ubyte.gz").astype(np.int64)
    out = {"keras": keras.__version__, "train_samples_per_second": {}}
    for batch in batches((32, 256)):
        out["train_samples_per_second"][str(batch)] = speed(seed_network, x, y, batch)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
