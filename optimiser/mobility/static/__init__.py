"""The night run: every station brought to its target by vans from the depot, at least cost.

`solve.py` chooses between the exact model (`exact.py`) and the searches (`routing.py`,
`search.py`, `fast_search.py` compiled in `tour_kernel.py`, both cores in `parallel.py`);
`bound.py` gives a lower bound. Nothing is imported here, so that loading one module
(the compiled search's warm-up, a search process) does not load the others.
"""
