"""Spec rows for srcgrad/rules/fft.py (joined into rulespec's tables).

A row returns a real value: a complex transform is read through its real and imaginary
parts (``RI``: ``Re(z (1 - 0.5i)) = Re z + 0.5 Im z``, weighted differently so that both
parts' adjoints count); ``irfft``'s input is a complex spectrum made from the real argument
(``np.fft.fft(x)``: not Hermitian, so the imaginary parts irfft ignores are there too).
"""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

FFT = np.fft
V5 = (((5,),), ((2, 4),))
M34 = (((3, 4),), ((2, 3, 4),))
C3 = (((2, 3, 4),),)


def RI(expr: str) -> str:  # noqa: N802 - a template, read like a constant
    return f"np.real({expr} * (1.0 - 0.5j))"  # = re + 0.5 im


DIFF_FFT: list = [
    Spec(FFT.fft, RI("np.fft.fft(x)"), V5),
    Spec(FFT.fft, RI("np.fft.fft(x, 3, norm='ortho')"), V5),
    Spec(FFT.fft, RI("np.fft.fft(x, 7, axis=0, norm='forward')"), (((2, 4),),)),
    Spec(FFT.fft, RI("np.fft.fft(np.fft.fft(x))"), V5, label="fft of complex"),
    Spec(FFT.ifft, RI("np.fft.ifft(x)"), V5),
    Spec(FFT.ifft, RI("np.fft.ifft(np.fft.fft(x), 6, norm='ortho')"), V5),
    Spec(FFT.rfft, RI("np.fft.rfft(x)"), V5),
    Spec(FFT.rfft, RI("np.fft.rfft(x, 8, axis=-2, norm='forward')"), (((3, 2),),)),
    Spec(FFT.rfft, RI("np.fft.rfft(x, 3)"), V5),
    Spec(FFT.irfft, "np.fft.irfft(np.fft.fft(x))", V5),
    Spec(FFT.irfft, "np.fft.irfft(np.fft.fft(x), 7, norm='ortho')", V5),
    Spec(FFT.irfft, "np.fft.irfft(np.fft.fft(x), 2, axis=0, norm='forward')", (((3, 2),),)),
    Spec(FFT.irfft, "np.fft.irfft(x)", V5, label="irfft of real"),
    Spec(FFT.fftn, RI("np.fft.fftn(x)"), M34),
    Spec(FFT.fftn, RI("np.fft.fftn(x, s=(2, 5), axes=(0, 2), norm='ortho')"), C3),
    Spec(FFT.ifftn, RI("np.fft.ifftn(np.fft.fft(x), axes=(1, 0))"), M34),
    Spec(FFT.fft2, RI("np.fft.fft2(x)"), M34),
    Spec(FFT.fft2, RI("np.fft.fft2(x, s=(4, 3), norm='forward')"), M34),
    Spec(FFT.ifft2, RI("np.fft.ifft2(x, s=(2, 5))"), M34),
    Spec(FFT.rfftn, RI("np.fft.rfftn(x)"), M34),
    Spec(FFT.rfftn, RI("np.fft.rfftn(x, s=(3, 5), axes=(2, 0), norm='ortho')"), C3),
    Spec(FFT.rfft2, RI("np.fft.rfft2(x)"), M34),
    Spec(FFT.irfftn, "np.fft.irfftn(np.fft.fft(x))", M34),
    Spec(FFT.irfftn, "np.fft.irfftn(np.fft.fft(x), s=(3, 5), axes=(0, 2))", C3),
    Spec(FFT.irfft2, "np.fft.irfft2(np.fft.fft(x), norm='ortho')", M34),
    Spec(FFT.irfft2, "np.fft.irfft2(np.fft.fft(x), s=(2, 7))", M34),
    Spec(FFT.hfft, "np.fft.hfft(np.fft.fft(x))", V5),
    Spec(FFT.hfft, "np.fft.hfft(np.fft.fft(x), 7, axis=0, norm='ortho')", (((3, 2),),)),
    Spec(FFT.ihfft, RI("np.fft.ihfft(x)"), V5),
    Spec(FFT.ihfft, RI("np.fft.ihfft(x, 8, norm='forward')"), V5),
    Spec(FFT.fftfreq, "np.fft.fftfreq(5, x)", SCALAR1, POS),
    Spec(FFT.fftfreq, "np.fft.fftfreq(4, d=x)", SCALAR1, POS),
    Spec(FFT.rfftfreq, "np.fft.rfftfreq(6, x)", SCALAR1, POS),
    Spec(FFT.fftshift, "np.fft.fftshift(x)", V5),
    Spec(FFT.fftshift, RI("np.fft.fftshift(np.fft.fft(x), axes=(0,))"), M34),
    Spec(FFT.ifftshift, "np.fft.ifftshift(x, axes=-1)", M34),
    Spec(FFT.ifftshift, RI("np.fft.ifftshift(np.fft.fft(x))"), V5),
]
NONDIFF_FFT: list = []
