"""weightreg: the helpers of the book *Weight Regularization, Executed*.

Modules, one idea each (the API page of the book lists every public function):

Foundations
  * :mod:`weightreg.data`: the d2l high-dimensional regression problem, loaders, scikit-learn sets;
  * :mod:`weightreg.train`: the one training loop, losses, divergence checks;
  * :mod:`weightreg.seeding`: one call that makes a chapter reproducible;
  * :mod:`weightreg.validation`: argument checks with messages that name the argument;
  * :mod:`weightreg.plotting`: the book's figure style and shared plots;
  * :mod:`weightreg.widgets`: explorers that are live in Jupyter and scrubbable in HTML.
Penalties
  * :mod:`weightreg.penalties`: Lk penalties, their gradients, proximal operators;
  * :mod:`weightreg.dynamics`: closed-form dynamics of a weight under its penalty alone;
  * :mod:`weightreg.fullbatch`: exact ridge and full-batch (proximal) descent for many alphas;
  * :mod:`weightreg.lk_rows`: many Lk-penalized regressions trained as one batched computation;
  * :mod:`weightreg.lkfigures`: the figures, tables and explorer the Lk chapters share.
Constraints
  * :mod:`weightreg.constraints`: projections onto norm balls, projected gradient steps;
  * :mod:`weightreg.constraint_geometry`: two-parameter pictures of constrained problems.
Optimizers and weight decay
  * :mod:`weightreg.optim`: SGD and Adam with coupled (L2) or decoupled weight decay;
  * :mod:`weightreg.optim_sweep`: a learning-rate x weight-decay x seed grid trained at once;
  * :mod:`weightreg.decay_plots`: the decay chapters' heatmaps and trajectories.
Homework
  * :mod:`weightreg.check`: self-checks for the code exercises;
  * :mod:`weightreg.homework`: exercise parsing and the student edition.
"""

__version__ = "0.1.0"
