"""Optimiser: state + forecast → OR-Tools → plans and device commands."""
