"""plan.gpkg: every plan layer through GDAL (pyogrio), with field aliases and QGIS default styles.

GDAL writes the layers (GeoPackage 1.2, readable by GDAL 2.2 and later); this module then adds
what QGIS reads on opening the file:

- ``gpkg_data_columns`` (GeoPackage schema extension): per field a Chinese alias in ``name``
  and an English description in ``description``; GDAL 3.7+ reads them as the field's
  alternative name and comment, and QGIS shows the alias;
- ``layer_styles`` (the table QGIS itself writes): per spatial layer a QML and an SLD style
  with ``useAsDefault = 1``, so dragging the file into QGIS shows styled layers.

The whole file (every layer, the styles, the aliases) is built at a temporary path and only
then renamed over plan.gpkg (`optimizer.report.atomic`): a failure leaves the earlier file intact.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import geopandas as gpd
import pandas as pd
import pyogrio

from optimizer.export.bundle import PlanBundle
from optimizer.export.fields import field_aliases, target_descriptions
from optimizer.export.layers import LAYER_TITLES
from optimizer.export.styles import layer_rules, qml_document, sld_document
from optimizer.report.atomic import written_at

GEOMETRY_TYPES = {"facilities": "Point", "service_areas": "MultiPolygon", "zones": "MultiPolygon"}
STYLED = ("zones", "service_areas", "demand", "facilities")

_DATA_COLUMNS = """CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
  mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name))"""
_SCHEMA_EXTENSION = ("gpkg_data_columns", None, "gpkg_schema", "http://www.geopackage.org/spec/#extension_schema",
                     "read-write")


def _demand_geometry_type(frame: gpd.GeoDataFrame) -> str:
    return "Point" if set(frame.geom_type) <= {"Point"} else "MultiPolygon"


def write_gpkg(bundle: PlanBundle, layers: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write `layers` (from `plan_layers`) into a new GeoPackage at `path`, with aliases and styles.

    Parameters
    ----------
    bundle : PlanBundle
        The plan (for target descriptions, weights and type names).
    layers : dict
        Layer name -> GeoDataFrame (spatial) or DataFrame (attribute table), in order.
    path : Path
        The file to write; an existing file is replaced once the new one is complete.
    """
    with written_at(path) as tmp:
        _build(bundle, layers, tmp)
    return path


def _build(bundle: PlanBundle, layers: dict[str, pd.DataFrame], path: Path) -> None:
    """Every layer, then the styles and the aliases, into a new GeoPackage at `path`."""
    for k, (name, frame) in enumerate(layers.items()):
        title, description = LAYER_TITLES[name]
        options = {"IDENTIFIER": title, "DESCRIPTION": description}
        geometry = None
        if isinstance(frame, gpd.GeoDataFrame):
            geometry = GEOMETRY_TYPES.get(name) or _demand_geometry_type(frame)
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", geometry_type=geometry,
                                promote_to_multi=True if geometry == "MultiPolygon" else None,
                                dataset_options={"VERSION": "1.2"} if k == 0 else None,
                                layer_options=options, append=k > 0)
    aliases = _aliases(bundle, layers)
    _write_styles(bundle, layers, aliases, path)
    with closing(sqlite3.connect(path)) as db, db:
        _write_data_columns(db, aliases)


def _aliases(bundle: PlanBundle, layers: dict[str, pd.DataFrame]) -> dict[str, dict[str, tuple[str, str]]]:
    """Layer -> column -> (alias, description)."""
    targets = target_descriptions(bundle.scenario.targets)
    weights = list(bundle.region.demand.weights)
    out = {}
    for name, frame in layers.items():
        columns = [c for c in frame.columns if not (isinstance(frame, gpd.GeoDataFrame) and c == frame.geometry.name)]
        out[name] = field_aliases(columns, weights=weights, distance_unit=bundle.reach.unit, targets=targets,
                                   layer=name, labels=bundle.scenario.type_labels)
    return out


def _write_data_columns(db: sqlite3.Connection, aliases: dict[str, dict[str, tuple[str, str]]]) -> None:
    db.execute(_DATA_COLUMNS)
    db.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", _SCHEMA_EXTENSION)
    rows = [(layer, column, alias, alias, description)
            for layer, columns in aliases.items() for column, (alias, description) in columns.items()]
    db.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description) "
                   "VALUES (?, ?, ?, ?, ?)", rows)


def _write_styles(bundle: PlanBundle, layers: dict[str, pd.DataFrame],
                  aliases: dict[str, dict[str, tuple[str, str]]], path: Path) -> None:
    """The ``layer_styles`` table as QGIS creates it (FID column ``id``), one default style per layer."""
    rows = []
    for name in STYLED:
        frame = layers[name]
        rules = layer_rules(name, bundle.region.type_names)
        polygon = "Polygon" in (GEOMETRY_TYPES.get(name) or _demand_geometry_type(cast(gpd.GeoDataFrame, frame)))
        rows.append({
            "f_table_catalog": "", "f_table_schema": "", "f_table_name": name, "f_geometry_column": "geom",
            "styleName": name, "styleQML": qml_document(rules, {c: a for c, (a, _) in aliases[name].items()},
                                                        polygon=polygon),
            "styleSLD": sld_document(name, rules), "useAsDefault": True,
            "description": f"eldercare: {LAYER_TITLES[name][0]}", "owner": "", "ui": "",
            "update_time": datetime.now(UTC).replace(tzinfo=None),
        })
    pyogrio.write_dataframe(pd.DataFrame(rows), path, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"}, append=True)
