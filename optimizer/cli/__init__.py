"""CLI: the `eldercare` command, one of the two edges where engine errors become user output.

`main` validates, solves, exports and compares; `sweep` runs budget sweeps and `presets` lists
the policy presets; `common` turns engine errors into one-line messages and exit codes.

Flow: sweep → **cli**, the engine's edge; the HTTP service (`api`) sits beside it.
"""
