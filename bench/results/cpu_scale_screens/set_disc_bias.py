import sys, shutil, os, math
from safetensors.torch import load_file, save_file
src, out, p = sys.argv[1], sys.argv[2], float(sys.argv[3])
shutil.copytree(src, out)
f = os.path.join(out, "discriminator", "model.safetensors")
w = load_file(f)
k = "discriminator_predictions.dense_prediction.bias"
print(k, w[k])
w[k].fill_(math.log(p / (1 - p)))
save_file(w, f, metadata={"format": "pt"})
print("set", w[k])
