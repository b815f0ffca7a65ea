"""Spec rows for srcgrad/rules/decomp.py (joined into rulespec's tables).

cholesky, eigh and eigvalsh read one triangle of their argument (svd and pinv too with
hermitian=True): rows on a raw ``x`` check that convention, rows on ``x + x^T`` the
symmetric one users write. Eigen- and singular vectors (and QR factors) are defined up to
sign: rows use sign-free functions of them (squares, ``V f(w) V^T``, ``U f(s) Vh``). Constant
diagonals keep eigen- and singular values apart and away from zero, so the inputs are
well conditioned at the default tolerances.
"""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

# Entries this small keep x + 3 I diagonally dominant (see spec_linalg.py).
SMALL: Domain = ((-0.6, 0.6),)
# |x| <= 0.3: a symmetric perturbation of norm <= 1.8 (x + x^T, 3x3), so the spreads
# below (5 for eigenvalues, 3 for singular values) keep them apart.
TINY: Domain = ((-0.3, 0.3),)

SQ = (((3, 3),), ((2, 3, 3),))
TALL = (((4, 3),), ((2, 4, 3),))
WIDE = (((3, 4),), ((2, 3, 4),))
SYM = "x + np.swapaxes(x, -1, -2)"
EIG = "np.diag(np.array([0.0, 5.0, 10.0]))"
SV_SQ = "np.diag(np.array([9.0, 6.0, 3.0]))"
SV_TALL = "np.eye(4, 3) * np.array([9.0, 6.0, 3.0])"
SV_WIDE = "np.eye(3, 4) * np.array([[9.0], [6.0], [3.0]])"
# A function of a symmetric matrix, V sin(w) V^T: free of the eigenvectors' signs.
EIG_FN = "(vec * np.sin(ev)[..., None, :]) @ np.swapaxes(vec, -1, -2)"
# U sin(s) Vh: free of the singular vectors' signs.
SVD_FN = "(u * np.sin(s)[..., None, :]) @ vh"

DIFF_DECOMP: list = [
    Spec(np.linalg.slogdet, "np.linalg.slogdet(x + 3 * np.eye(3))[1]",
         (((3, 3),), ((2, 3, 3),)), SMALL),
    # cholesky
    Spec(np.linalg.cholesky, "np.linalg.cholesky(x + 3 * np.eye(3))", SQ, SMALL),
    Spec(np.linalg.cholesky, f"np.linalg.cholesky({SYM} + 4 * np.eye(3))", SQ, SMALL),
    Spec(np.linalg.cholesky, "np.linalg.cholesky(x + 3 * np.eye(3), upper=True)", SQ, SMALL),
    # qr: LAPACK's Householder signs jump where a column is already reduced (x = 0 here),
    # so rows use functions unchanged when a column of Q and a row of R change sign.
    Spec(np.linalg.qr, "np.linalg.qr(x + 3 * np.eye(3))[0] ** 2", SQ, SMALL),
    Spec(np.linalg.qr, "np.linalg.qr(x + 3 * np.eye(3))[1] ** 2", SQ, SMALL),
    Spec(np.linalg.qr, "np.linalg.qr(x + 3 * np.eye(4, 3))[0] ** 2", TALL, SMALL),
    Spec(np.linalg.qr, "np.linalg.qr(x + 3 * np.eye(4, 3), mode='reduced')[1] ** 2", TALL,
         SMALL),
    Spec(np.linalg.qr, "np.sin(q) @ r", TALL, SMALL,
         pre="q, r = np.linalg.qr(x + 3 * np.eye(4, 3))"),
    # eigh
    Spec(np.linalg.eigh, f"np.linalg.eigh(x + {EIG})[0]", SQ, TINY),
    Spec(np.linalg.eigh, f"np.linalg.eigh(x + {EIG})[1] ** 2", SQ, TINY),
    Spec(np.linalg.eigh, f"np.linalg.eigh({SYM} + {EIG})[0]", SQ, TINY),
    Spec(np.linalg.eigh, f"np.linalg.eigh({SYM} + {EIG})[1] ** 2", SQ, TINY),
    Spec(np.linalg.eigh, f"np.linalg.eigh(x + {EIG}, UPLO='U')[1] ** 2", SQ, TINY),
    Spec(np.linalg.eigh, EIG_FN, SQ, TINY, pre=f"ev, vec = np.linalg.eigh({SYM} + {EIG})"),
    Spec(np.linalg.eigh, EIG_FN, SQ, TINY, pre=f"ev, vec = np.linalg.eigh(x + {EIG})",
         label="V sin(w) V^T, lower triangle"),
    Spec(np.linalg.eigvalsh, f"np.linalg.eigvalsh(x + {EIG})", SQ, TINY),
    Spec(np.linalg.eigvalsh, f"np.linalg.eigvalsh({SYM} + {EIG})", SQ, TINY),
    Spec(np.linalg.eigvalsh, f"np.linalg.eigvalsh(x + {EIG}, 'U')", SQ, TINY),
    # svd: square (full_matrices=True is the reduced SVD), tall and wide reduced
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_SQ})[1]", SQ, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_SQ})[0] ** 2", SQ, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_SQ})[2] ** 2", SQ, TINY),
    Spec(np.linalg.svd, SVD_FN, SQ, TINY, pre=f"u, s, vh = np.linalg.svd(x + {SV_SQ})"),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_TALL}, full_matrices=False)[1]", TALL, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_TALL}, False)[0] ** 2", TALL, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_TALL}, False)[2] ** 2", TALL, TINY),
    Spec(np.linalg.svd, SVD_FN, TALL, TINY, label="U sin(s) Vh, tall",
         pre=f"u, s, vh = np.linalg.svd(x + {SV_TALL}, full_matrices=False)"),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_WIDE}, False)[0] ** 2", WIDE, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_WIDE}, False)[2] ** 2", WIDE, TINY),
    Spec(np.linalg.svd, SVD_FN, WIDE, TINY, label="U sin(s) Vh, wide",
         pre=f"u, s, vh = np.linalg.svd(x + {SV_WIDE}, full_matrices=False)"),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_SQ}, compute_uv=False)", SQ, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_TALL}, compute_uv=False)", TALL, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {SV_WIDE}, False, False)", WIDE, TINY),
    Spec(np.linalg.svd, f"np.linalg.svd({SYM} + {EIG} + 1.0, hermitian=True)[1]", SQ, TINY),
    Spec(np.linalg.svd, SVD_FN, SQ, TINY, label="U sin(s) Vh, hermitian",
         pre=f"u, s, vh = np.linalg.svd(x + {EIG} - 7.0 * np.eye(3), hermitian=True)"),
    Spec(np.linalg.svd, f"np.linalg.svd(x + {EIG} + 1.0, compute_uv=False, hermitian=True)",
         SQ, TINY),
    # pinv: full rank
    Spec(np.linalg.pinv, f"np.linalg.pinv(x + {SV_SQ})", SQ, TINY),
    Spec(np.linalg.pinv, f"np.linalg.pinv(x + {SV_TALL})", TALL, TINY),
    Spec(np.linalg.pinv, f"np.linalg.pinv(x + {SV_WIDE}, rtol=1e-12)", WIDE, TINY),
    Spec(np.linalg.pinv, f"np.linalg.pinv(x + {SV_SQ}, hermitian=True)", SQ, TINY),
]
if hasattr(np.linalg, "svdvals"):  # NumPy >= 2.0
    DIFF_DECOMP += [
        Spec(np.linalg.svdvals, f"np.linalg.svdvals(x + {SV_SQ})", SQ, TINY),
        Spec(np.linalg.svdvals, f"np.linalg.svdvals(x + {SV_TALL})", TALL, TINY),
        Spec(np.linalg.svdvals, f"np.linalg.svdvals(x + {SV_WIDE})", WIDE, TINY),
    ]
NONDIFF_DECOMP: list = []
