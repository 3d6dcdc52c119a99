"""Inputs: the scenario's geodata loaded into projected arrays.

`geodata` reads the demand and site layers (files, inline GeoJSON or in-memory tables) into a
`Region` in one metric CRS, collecting every problem into one `GeodataError`;
`distance_table` reads a precomputed long-form table of distances or travel times;
`drivers` opens every input file only as the format its name says (no VRT, no URL);
`coordinates` checks that coordinates are finite and inside their CRS's valid area.

Flow: scenario → **inputs** → reach: the region's coordinates (or table) are what reach measures.
"""
