"""Teaching srcgrad a derivative: a numerically stable softplus.

softplus(x) = log(1 + exp(x)). Differentiated as written, its derivative is
exp(x) / (1 + exp(x)), which is inf / inf = nan once exp(x) overflows (x > 709).
Declaring the derivative ourselves, as sigmoid(x) written in a stable form, fixes
that: srcgrad then calls ``softplus`` and inlines the declared rule into the
generated code, in the same form as srcgrad's own rule tables.
"""

import numpy as np

import srcgrad


def naive_softplus(x):
    return np.log1p(np.exp(x))


def softplus(x):
    return np.logaddexp(0.0, x)  # stable value


# d softplus / dx = sigmoid(x) = exp(-softplus(-x)), stable for any x.
srcgrad.defpartials(softplus, "x", "np.exp(-np.logaddexp(0.0, -x))")


def naive_loss(x):
    return np.sum(naive_softplus(x))


def loss(x):
    return np.sum(softplus(x))


def main() -> None:
    x = np.array([-30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = srcgrad.grad(naive_loss)(x)
    stable = srcgrad.grad(loss)(x)
    print("x:                         ", x)
    print("gradient, differentiated:  ", naive)
    print("gradient, declared rule:   ", stable)
    print()
    print(srcgrad.derivative_source(loss))


if __name__ == "__main__":
    main()
