"""Keras on the example CNN, for the README's comparison with `steadygrad train --model-config
examples/cnn.json --epochs 3` and `steadygrad bench`'s CNN rows.

    pip install tensorflow-cpu
    python benches/keras_cnn.py              # prints one JSON object
    python benches/keras_cnn.py MODEL.json   # another Keras model, as `train --model-config`
    python benches/keras_cnn.py MODEL.json --batches 32,128   # speed alone, at these batch sizes

The same architecture (`examples/cnn.json` or the file named, read with
`keras.models.model_from_json`; the digits shaped as its input), the same
optimizer as the CLI's default (SGD 0.01 with Nesterov momentum 0.9), batch 32, the bundled
digits / 255: the test accuracy after 3 epochs, and samples/s of `model.fit` over the best
of three epochs after the first (which builds the graph) at batch 32 and 256.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import keras  # noqa: E402

from keras_seed import ROOT, batches, idx, speed  # noqa: E402


_FILES = [a for a in sys.argv[1:] if a.endswith(".json")]
CONFIG = _FILES[0] if _FILES else os.path.join(ROOT, "examples", "cnn.json")


def cnn():
    with open(CONFIG) as f:
        return keras.models.model_from_json(f.read())


def compiled():
    model = cnn()
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main():
    x = idx("mnist10k-train-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = idx("mnist10k-train-labels-idx1-ubyte.gz").astype(np.int64)
    xt = idx("mnist10k-test-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    yt = idx("mnist10k-test-labels-idx1-ubyte.gz").astype(np.int64)
    out = {"keras": keras.__version__, "model": CONFIG, "train_samples_per_second": {}}
    keras.utils.set_random_seed(42)
    model = compiled()
    shape = (-1,) + tuple(model.input_shape[1:])
    x, xt = x.reshape(shape), xt.reshape(shape)
    if "--batches" not in sys.argv:
        model.fit(x, y, batch_size=32, epochs=3, verbose=0)
        out["test_accuracy_after_3_epochs"] = float(model.evaluate(xt, yt, verbose=0)[1])
    for batch in batches((32, 256)):
        out["train_samples_per_second"][str(batch)] = speed(cnn, x, y, batch)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
