"""Writes the fuzz seed corpus (small valid inputs that tests/fuzz.rs mutates):
images.idx / labels.idx (IDX, 3 images of 4×4), images.idx.gz (gzipped), data.safetensors
(x uint8 (3, 2, 2), y int64), model.json + weights.safetensors + optimizer.safetensors (a
tiny model folder), keras_model.json (a Keras-style Sequential JSON)."""
import gzip, json, struct
import numpy as np
from safetensors.numpy import save_file

def idx(arr):
    return struct.pack(">BBBB", 0, 0, 8, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.astype(np.uint8).tobytes()

imgs = (np.arange(48) * 7 % 256).reshape(3, 4, 4)
open("images.idx", "wb").write(idx(imgs))
open("labels.idx", "wb").write(idx(np.array([0, 2, 1])))
open("images.idx.gz", "wb").write(gzip.compress(idx(imgs), mtime=0))
save_file({"x": (np.arange(12) % 256).astype(np.uint8).reshape(3, 2, 2), "y": np.array([0, 1, 1], dtype=np.int64)}, "data.safetensors")
model = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    {"class_name": "InputLayer", "config": {"batch_shape": [None, 2, 2], "name": "input_layer"}},
    {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True}},
    {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "relu", "use_bias": True,
        "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": None}}, "bias_initializer": "zeros"}},
    {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True}},
    {"class_name": "LeakyReLU", "config": {"name": "leaky_re_lu", "negative_slope": 0.3}},
    {"class_name": "Dense", "config": {"name": "dense_1", "units": 2, "activation": "softmax"}}]},
    "steadygrad": {"lr_multipliers": [["dense", 0.5]]}}
open("model.json", "w").write(json.dumps(model))
w = {"dense/kernel": np.full((4, 3), 0.1, np.float32), "dense/bias": np.zeros(3, np.float32),
     "batch_normalization/gamma": np.ones(3, np.float32), "batch_normalization/beta": np.zeros(3, np.float32),
     "batch_normalization/moving_mean": np.zeros(3, np.float32), "batch_normalization/moving_variance": np.ones(3, np.float32),
     "dense_1/kernel": np.full((3, 2), -0.2, np.float32), "dense_1/bias": np.zeros(2, np.float32)}
save_file(w, "weights.safetensors")
opt = {f"sequential_{k.replace('/', '_')}_momentum": np.zeros(v.size, np.float32) for k, v in w.items() if "moving" not in k}
opt["iteration"] = np.array([5], dtype=np.uint64)
save_file(opt, "optimizer.safetensors", metadata={"optimizer": "sgd"})
keras = json.load(open("../keras_model.json"))
open("keras_model.json", "w").write(json.dumps(keras))
