"""weightreg: the helpers of the book *Weight Regularization, Executed*.

Modules, one idea each (the API page of the book lists every public function).  One
convention per concept: one batched engine per model family (:mod:`weightreg.linear` for
linear models, configurations as rows ``(C, d)``; :mod:`weightreg.optim_sweep` for MLPs,
stacks ``(C, in, out)``), one proximal/projected solver (:mod:`weightreg.proximal`), one prox
convention (:func:`weightreg.penalties.prox_lk`), one divergence policy
(:mod:`weightreg.divergence`) and one seeding policy (:func:`weightreg.seeding.streams`).

Foundations
  * :mod:`weightreg.data`: the d2l high-dimensional regression problem, loaders, scikit-learn sets;
  * :mod:`weightreg.train`: the one training loop for a single model, losses;
  * :mod:`weightreg.baseline`: the baseline's references: null model, minimum-norm interpolant,
    the start's null-space part;
  * :mod:`weightreg.divergence`: when a run has diverged, and what every trainer does then;
  * :mod:`weightreg.seeding`: one call that makes a chapter reproducible; independent streams;
  * :mod:`weightreg.validation`: argument checks with messages that name the argument;
  * :mod:`weightreg.claims`: asserting "best inside its grid" and "difference above spread";
  * :mod:`weightreg.plotting`: the book's figure style and shared plots;
  * :mod:`weightreg.widgets`: explorers that are live in Jupyter and scrubbable in HTML.
Penalties
  * :mod:`weightreg.penalties`: Lk penalties, their gradients, proximal operators;
  * :mod:`weightreg.proximal`: proximal (and projected) gradient descent, ISTA and FISTA;
  * :mod:`weightreg.linear`: the batched linear-model engine: exact ridge, Lk paths, training;
  * :mod:`weightreg.dynamics`: closed-form dynamics of a weight under its penalty alone.
Constraints
  * :mod:`weightreg.constraints`: projections onto norm balls, projected gradient steps;
  * :mod:`weightreg.constraint_geometry`: two-parameter constrained problems (the math).
Optimizers and weight decay
  * :mod:`weightreg.optim`: SGD and Adam with coupled (L2) or decoupled weight decay;
  * :mod:`weightreg.optim_sweep`: a learning-rate x weight-decay x seed grid trained at once.
Regularizers without a penalty
  * :mod:`weightreg.early_stopping`: gradient descent from zero and ridge as spectral filters;
  * :mod:`weightreg.dropout`: the exact expected penalty of input dropout on a linear model;
  * :mod:`weightreg.label_smoothing`: the optimal logits under smoothed targets;
  * :mod:`weightreg.selection`: choosing the strength: leave-one-out and cross-validation;
  * :mod:`weightreg.bayes`: the evidence of Bayesian ridge regression.
Weight decay in normalized networks
  * :mod:`weightreg.normalization`: scale invariance, the exponential schedule, the equilibrium;
  * :mod:`weightreg.timescale`: AdamW's weights as a moving average of its updates;
  * :mod:`weightreg.param_groups`: which parameters to decay (nanoGPT, Hugging Face);
  * :mod:`weightreg.transformer`: a small transformer and an offline text corpus.
Figures (drawing apart from the math)
  * :mod:`weightreg.figures`: the subpackage;
  * :mod:`weightreg.figures.lk`: penalty plots, one-step tables, the dynamics explorer;
  * :mod:`weightreg.figures.constraints`: pictures of constrained problems;
  * :mod:`weightreg.figures.decay`: the decay chapters' heatmaps and trajectories.
Homework
  * :mod:`weightreg.check`: self-checks for the code exercises (the student edition itself is
    built by ``tools/``, outside the package).
"""

__version__ = "0.1.0"
