"""Figures, tables and explorers of the book, by topic, apart from the math they draw.

* :mod:`weightreg.figures.lk`: the Lk chapters' penalty/derivative plots, one-step tables
  and dynamics explorer;
* :mod:`weightreg.figures.constraints`: two-parameter pictures of constrained problems;
* :mod:`weightreg.figures.decay`: the decay chapters' heatmaps and trajectories.

The math these figures draw lives in the math modules (:mod:`weightreg.penalties`,
:mod:`weightreg.dynamics`, :mod:`weightreg.constraints`, :mod:`weightreg.optim_sweep`, ...);
nothing here computes a result that a chapter asserts.
"""
