"""weightreg: the helpers of the book *Weight Regularization, Executed*.

Modules, one idea each:

* :mod:`weightreg.data`: the d2l high-dimensional regression problem, loaders, scikit-learn sets;
* :mod:`weightreg.train`: the one training loop, losses, divergence checks;
* :mod:`weightreg.penalties`: Lk penalties, their gradients and proximal operators;
* :mod:`weightreg.constraints`: projections onto norm balls, projected gradient steps;
* :mod:`weightreg.optim`: SGD and Adam with coupled (L2) or decoupled weight decay;
* :mod:`weightreg.plotting`: the book's figure style and shared plots;
* :mod:`weightreg.widgets`: explorers that are live in Jupyter and scrubbable in HTML;
* :mod:`weightreg.check`: self-checks for the exercises;
* :mod:`weightreg.seeding`: one call that makes a chapter reproducible.
"""

__version__ = "0.1.0"
