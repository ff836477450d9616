"""Self-checks for the code exercises: ``check.<name>(your_function)``.

Each check runs the student's function on cases chosen to expose the usual
mistakes (sign at negative weights, the value at 0, mean versus sum, the factor
1/2, decaying the bias) and raises :class:`CheckFailed` with a message that says
what is wrong without giving the answer.  A correct function prints one line.

One module per part of the book; every check is re-exported here.
"""

from . import (
    adamw,
    baseline,
    bayes,
    constraints,
    decay_practice,
    dropout,
    early_stopping,
    equilibrium,
    figure2_bn,
    label_smoothing,
    lk,
    lk_family,
    noise,
    optim,
    scale_invariance,
    selection,
    sparse,
    timescale,
)
from ._core import CheckFailed
from .adamw import *  # noqa: F403
from .baseline import *  # noqa: F403
from .bayes import *  # noqa: F403
from .constraints import *  # noqa: F403
from .decay_practice import *  # noqa: F403
from .dropout import *  # noqa: F403
from .early_stopping import *  # noqa: F403
from .equilibrium import *  # noqa: F403
from .figure2_bn import *  # noqa: F403
from .label_smoothing import *  # noqa: F403
from .lk import *  # noqa: F403
from .lk_family import *  # noqa: F403
from .noise import *  # noqa: F403
from .optim import *  # noqa: F403
from .scale_invariance import *  # noqa: F403
from .selection import *  # noqa: F403
from .sparse import *  # noqa: F403
from .timescale import *  # noqa: F403

__all__ = [
    "CheckFailed",
    *adamw.__all__,
    *baseline.__all__,
    *bayes.__all__,
    *constraints.__all__,
    *decay_practice.__all__,
    *dropout.__all__,
    *early_stopping.__all__,
    *equilibrium.__all__,
    *figure2_bn.__all__,
    *label_smoothing.__all__,
    *lk.__all__,
    *lk_family.__all__,
    *noise.__all__,
    *optim.__all__,
    *scale_invariance.__all__,
    *selection.__all__,
    *sparse.__all__,
    *timescale.__all__,
]
