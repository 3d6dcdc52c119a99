"""Inputs: the scenario's geodata loaded into projected arrays.

`geodata` reads the demand and site layers (files, inline GeoJSON or in-memory tables) into a
`Region` in one metric CRS, collecting every problem into one `GeodataError`;
`distance_table` reads a precomputed long-form table of distances or travel times.

Flow: scenario → **inputs** → reach: the region's coordinates (or table) are what reach measures.
"""
