"""Write tests/data/legacy/<Model>.keras and .npz with the code of main at f4c171a."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import tensorflow as tf

import zoo


def main(out):
    for name in zoo.list():
        cls = zoo.get(name)
        kwargs, x, y = cls.example()
        tf.random.set_seed(0)
        np.random.seed(0)  # noqa: NPY002 - as the suite seeds it
        model = cls(**kwargs)
        model.fit(x, y, epochs=2, batch_size=max(1, len(x) // 4), verbose=0)
        model.save(os.path.join(out, f"{name}.keras"))
        ref = {"x": np.asarray(x)}
        if y is not None:
            ref["y"] = np.asarray(y)
        tf.random.set_seed(1)
        ev = model.evaluate(x, y, verbose=0, return_dict=True)
        for k, v in ev.items():
            ref["evaluate_" + k] = np.asarray(v)
        try:
            p = model.predict(x, verbose=0)
            if isinstance(p, (tuple, list)):
                for i, pi in enumerate(p):
                    ref[f"predict_{i}"] = np.asarray(pi)
            else:
                ref["predict"] = np.asarray(p)
        except Exception as e:
            print(name, "predict failed:", type(e).__name__, e)
        if hasattr(model, "log_prob"):
            try:
                ref["log_prob"] = np.asarray(model.log_prob(x))
            except Exception as e:
                print(name, "log_prob failed:", type(e).__name__, str(e)[:200])
        np.savez(os.path.join(out, f"{name}.npz"), **ref)
        print(name, sorted(ref), json.dumps(model.get_config())[:150])


if __name__ == "__main__":
    main(sys.argv[1])
