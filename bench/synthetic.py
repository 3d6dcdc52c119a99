"""Synthetic clustered cities as real scenario folders (GeoPackage layers + scenario.json).

The city follows ../shared/PERF_NOTES.md: a 30 km x 30 km square, urban communities in
Gaussian clusters around town centres plus scattered rural villages, elderly weights
lognormal with mean 300, candidate sites = 80% at demand points + 20% random.

    python -m bench.synthetic --units 20000 --sites 3000 --out /tmp/city20k
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np

CRS = "EPSG:32650"
SIDE_M = 30_000.0
ORIGIN = (450_000.0, 4_000_000.0)


def make_city(n_units: int, n_sites: int, *, seed: int = 0,
              n_zones: int = 8) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Demand and site layers of a clustered city (projected, metres)."""
    rng = np.random.default_rng(seed)
    n_urban = int(0.6 * n_units)
    centres = rng.uniform(0.15 * SIDE_M, 0.85 * SIDE_M, size=(90, 2))
    pick = rng.integers(0, len(centres), n_urban)
    urban = centres[pick] + rng.normal(0, 900, size=(n_urban, 2))
    rural = rng.uniform(0, SIDE_M, size=(n_units - n_urban, 2))
    xy = np.clip(np.vstack([urban, rural]), 0, SIDE_M)
    kind = np.array(["urban"] * n_urban + ["rural"] * (n_units - n_urban), dtype=object)
    pop60 = np.round(rng.lognormal(np.log(300) - 0.5 * 0.6**2, 0.6, n_units)).astype(int)
    demand = gpd.GeoDataFrame({
        "id": [f"D{i:06d}" for i in range(n_units)], "kind": kind, "zone": _zone(xy, n_zones),
        "pop60": pop60, "pop80": np.round(pop60 * rng.uniform(0.1, 0.2, n_units)).astype(int),
    }, geometry=gpd.points_from_xy(xy[:, 0] + ORIGIN[0], xy[:, 1] + ORIGIN[1]), crs=CRS)
    at_demand = rng.choice(n_units, int(0.8 * n_sites), replace=False)
    site_xy = np.vstack([xy[at_demand], rng.uniform(0, SIDE_M, size=(n_sites - len(at_demand), 2))])
    site_xy = site_xy + rng.normal(0, 30, size=site_xy.shape)   # a building next to the community
    allowed = np.where(rng.random(n_sites) < 0.3, "*", "station,meal_point,happiness_home")
    existing = np.where(rng.random(n_sites) < 0.03, "station", "")
    sites = gpd.GeoDataFrame({
        "id": [f"S{s:05d}" for s in range(n_sites)], "zone": _zone(site_xy, n_zones),
        "allowed": allowed, "existing": existing,
        "cost_station": np.round(rng.uniform(400_000, 900_000, n_sites), -3),
    }, geometry=gpd.points_from_xy(site_xy[:, 0] + ORIGIN[0], site_xy[:, 1] + ORIGIN[1]), crs=CRS)
    return demand, sites


def _zone(xy: np.ndarray, n_zones: int) -> np.ndarray:
    """Vertical strips x horizontal halves: a stand-in for streets and townships."""
    cols = max(1, n_zones // 2)
    col = np.minimum((xy[:, 0] / SIDE_M * cols).astype(int), cols - 1)
    row = (xy[:, 1] >= SIDE_M / 2).astype(int)
    return np.array([f"Z{r}{c}" for r, c in zip(row, col)], dtype=object)


def scenario(name: str, *, time_limit_s: float = 60.0) -> dict:
    """The four-type plan used on synthetic cities."""
    return {
        "format": 1, "name": name, "crs": CRS,
        "demand": {"path": "demand.gpkg", "id": "id", "group": "kind", "zone": "zone",
                   "weights": {"elderly": "pop60", "oldest": "pop80"}},
        "sites": {"path": "sites.gpkg", "id": "id", "zone": "zone", "allowed": "allowed",
                  "existing": "existing", "cost": {"station": "cost_station"}},
        "facility_types": {
            "station": {"radius_m": 1000, "serves": ["urban"], "capital_cost": 600000,
                        "annual_cost": 90000, "land_m2": 350},
            "meal_point": {"radius_m": 1000, "capital_cost": 150000, "annual_cost": 60000,
                           "colocate": {"station": 0.4, "happiness_home": 0.4}, "land_m2": 80},
            "happiness_home": {"radius_m": 2000, "serves": ["rural"], "capital_cost": 300000,
                               "annual_cost": 40000, "land_m2": 200},
            "street_centre": {"radius_m": 3000, "capital_cost": 3000000, "annual_cost": 400000,
                              "land_m2": 1500},
        },
        "targets": [
            {"kind": "coverage", "facility": "station", "group": "urban", "min_share": 0.9},
            {"kind": "coverage", "facility": "happiness_home", "group": "rural", "min_share": 0.5},
            {"kind": "coverage", "facility": "meal_point", "measure": "elderly", "min_share": 0.6},
            {"kind": "count", "facility": "street_centre", "per_zone": True, "min": 1},
        ],
        "budget": {"capital": None, "annual": None, "horizon_years": 3},
        "objective": "min_cost", "elastic": False,
        "solver": {"backend": "highs", "time_limit_s": time_limit_s, "mip_gap": 0.001},
    }


def write_city(out: Path, n_units: int, n_sites: int, *, seed: int = 0, time_limit_s: float = 60.0) -> Path:
    """Write demand.gpkg, sites.gpkg and scenario.json into `out`; return the scenario path."""
    out.mkdir(parents=True, exist_ok=True)
    demand, sites = make_city(n_units, n_sites, seed=seed)
    demand.to_file(out / "demand.gpkg", layer="demand", engine="pyogrio")
    sites.to_file(out / "sites.gpkg", layer="sites", engine="pyogrio")
    path = out / "scenario.json"
    doc = scenario(f"synthetic city {n_units} x {n_sites} (seed {seed})", time_limit_s=time_limit_s)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def main() -> None:
    """CLI: write one synthetic city."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    path = write_city(args.out, args.units, args.sites, seed=args.seed, time_limit_s=args.time_limit)
    print(path)


if __name__ == "__main__":
    main()
