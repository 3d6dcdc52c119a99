"""Recreate ``haidian.gpkg`` (layers ``demand`` and ``sites``) from the OpenStreetMap extract.

    python geodata/haidian/build.py            # writes geodata/haidian/haidian.gpkg
    python geodata/haidian/build.py OUT.gpkg   # writes elsewhere

Independent of the optimizer: pyrosm reads ``tsinghua_wudaokou_2017.osm.pbf`` and geopandas
writes the GeoPackage. How population and elderly counts are estimated, and every assumption,
is in PROVENANCE.md beside this file; the constants below are those assumptions.
Data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PBF = HERE / "tsinghua_wudaokou_2017.osm.pbf"
OUT = HERE / "haidian.gpkg"
METRIC = "EPSG:32650"          # UTM 50N: areas in m²

M2_PER_RESIDENT = 33.0         # ASSUMED gross floor area per resident, m²
DEFAULT_LEVELS = 6             # ASSUMED storeys of a residential building without `building:levels`
COMPOUND_FLOOR_RATIO = 1.5     # ASSUMED floor area / land area of a compound with no mapped building
SHARE_60_PLUS = 0.196          # Beijing, 2020 census: 4.299 million aged 60+ = 19.6% of residents

RESIDENTIAL = ("residential", "apartments", "house")
HOMES_IN_COMPOUND = (*RESIDENTIAL, "yes")
NOT_A_SITE = (*RESIDENTIAL, "dormitory", "train_station", "construction")
CARE_AMENITIES = ("hospital", "clinic", "doctors", "pharmacy", "community_centre", "social_facility",
                  "library", "post_office")
FOOD_AMENITIES = ("restaurant", "fast_food", "cafe", "canteen")


def main(out: Path = OUT) -> None:
    """Read the extract, estimate demand, pick candidate sites, write the GeoPackage `out`."""
    from pyrosm import OSM

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = OSM(str(PBF))
        landuse = osm.get_landuse()
        buildings = osm.get_buildings()
        pois = osm.get_pois(custom_filter={"amenity": list(CARE_AMENITIES + FOOD_AMENITIES)})
    compounds = _metric(landuse[landuse["landuse"] == "residential"])
    buildings = _metric(buildings)
    demand = _demand(compounds, buildings)
    sites = _sites(buildings, _metric(pois), demand)
    out.unlink(missing_ok=True)
    demand.to_crs("EPSG:4326").to_file(out, layer="demand", driver="GPKG")
    sites.to_crs("EPSG:4326").to_file(out, layer="sites", driver="GPKG")
    print(f"{out.name}: {len(demand)} demand units ({demand['pop'].sum():,.0f} residents, "
          f"{demand['pop60'].sum():,.0f} aged 60+), {len(sites)} candidate sites")


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.to_crs(METRIC).reset_index(drop=True)
    frame["name"] = _tag(frame, "name")
    return frame


def _tag(frame: gpd.GeoDataFrame, key: str) -> pd.Series:
    """A tag from its own column, else from pyrosm's JSON `tags` column."""
    if key in frame.columns:
        return frame[key]
    extra = frame["tags"] if "tags" in frame.columns else pd.Series(None, index=frame.index)
    return extra.map(lambda text: json.loads(text).get(key) if isinstance(text, str) else None)


def _floor_m2(buildings: gpd.GeoDataFrame) -> pd.Series:
    """Footprint area x storeys (`building:levels`, else DEFAULT_LEVELS)."""
    levels = pd.to_numeric(_tag(buildings, "building:levels"), errors="coerce").fillna(DEFAULT_LEVELS)
    return buildings.area * levels


def _demand(compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One unit per residential compound (landuse) and per residential building outside them."""
    homes = buildings[buildings["building"].isin(HOMES_IN_COMPOUND)].copy()
    homes["floor_m2"] = _floor_m2(homes)
    centres = homes.set_geometry(homes.representative_point())
    inside = gpd.sjoin(centres, compounds[["geometry"]], predicate="within")
    floor = inside.groupby("index_right")["floor_m2"].sum().reindex(compounds.index)
    compounds = compounds.assign(
        id="landuse/" + compounds["id"].astype(str), source="residential landuse",
        floor_m2=floor.fillna(compounds.area * COMPOUND_FLOOR_RATIO),
        floor_from=np.where(floor.notna(), "buildings inside", "land area x assumed floor ratio"))
    alone = homes[~homes.index.isin(inside.index) & homes["building"].isin(RESIDENTIAL)]
    alone = alone.assign(id="building/" + alone["id"].astype(str), source="building=" + alone["building"],
                         floor_from="footprint x levels")
    units = pd.concat([compounds, alone], ignore_index=True)
    units["pop"] = (units["floor_m2"] / M2_PER_RESIDENT).round(1)
    units["pop60"] = (units["pop"] * SHARE_60_PLUS).round(1)
    units["kind"] = "urban"
    columns = ["id", "name", "source", "floor_from", "floor_m2", "pop", "pop60", "kind", "geometry"]
    return gpd.GeoDataFrame(units[columns], crs=METRIC).sort_values("id").reset_index(drop=True)


def _sites(buildings: gpd.GeoDataFrame, pois: gpd.GeoDataFrame,
           demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Non-residential buildings and care POIs host anything; food POIs only meal points."""
    compounds = demand[demand["source"] == "residential landuse"][["geometry"]]
    others = buildings[~buildings["building"].isin(NOT_A_SITE)]
    others = others.assign(id="building/" + others["id"].astype(str), source="building=" + others["building"],
                           allowed="station,meal_point")
    in_compound = gpd.sjoin(others.set_geometry(others.representative_point()), compounds, predicate="within")
    others.loc[others.index.isin(in_compound.index), "source"] += " in a residential compound"
    pois = pois.assign(id=pois["osm_type"].astype(str) + "/" + pois["id"].astype(str),
                       source="amenity=" + pois["amenity"].astype(str),
                       allowed=np.where(pois["amenity"].isin(FOOD_AMENITIES), "meal_point", "station,meal_point"))
    sites = pd.concat([others, pois], ignore_index=True)
    sites = sites.drop_duplicates("id").set_geometry(sites.representative_point())
    sites["existing"] = ""
    columns = ["id", "name", "source", "allowed", "existing", "geometry"]
    return gpd.GeoDataFrame(sites[columns], crs=METRIC).sort_values("id").reset_index(drop=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
