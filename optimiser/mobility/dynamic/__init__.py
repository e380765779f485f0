"""The day run: idle vans routed under a deadline to cut the expected unmet demand.

`plan.py` builds the plan: a greedy one (`greedy.py`), then prize-collecting routing
(`prizes.py`, `routing.py`) whose loads are re-optimised (`loads.py`), all evaluated on
the prepared day (`day.py`) with the fluid simulation of unmet demand (`unmet_demand.py`).
Nothing is imported here, so that loading one module does not load the others.
"""
