"""Sweep: the cost-coverage frontier, the most coverage each capital budget buys.

`run` drives a sweep (the least sufficient budget, then levels solved upward from warm starts),
`levels` is what one worker computes, `runners` where tasks run (this process, a process pool or
Dask), `warm` tops starts up greedily, `frontier` writes its rows and files, `chart` frontier.png.

Flow: report / export → **sweep** → cli: one prepared model, a checked plan per budget level.
"""
