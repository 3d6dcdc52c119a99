"""Benchmarks: synthetic cities and (later) public instances with known optima."""
